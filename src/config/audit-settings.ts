/** The core's audit settings from the configuration. */
import type { AuditSettings } from '../core/audit/settings.ts'
import type { Config } from './load.ts'

/**
 * Values of the review and the background jobs that are not settings: they follow from the
 * settings' meaning or bound the work of one run, and changing them has never been asked for.
 */
const fixedAuditValues = {
  pruneBatchSize: 1000,
  pruneMaxBatches: 50,
  /** Addresses one account's failures come from that make a distributed attack. */
  distributedIpThreshold: 5,
  /** Share of failed attempts among all attempts of a spread-out stuffing run. */
  stuffingFailureRatio: 0.8,
  deliverySchedule: '*/15 * * * * *',
  schedulerLeaseSeconds: 600,
  webhookBaseBackoffSeconds: 15,
  webhookMaxBackoffSeconds: 3600,
  /** One client adds at most 2 × (5 + 1) rows per refusal type a minute: 720 an hour. */
  refusalSummaries: { windowSeconds: 60, maxKindsPerNetwork: 5, maxKinds: 10_000 },
} as const

export function toAuditSettings(audit: Config['audit']): AuditSettings {
  return {
    nodeId: audit.nodeId,
    retentionSeconds: audit.retentionSeconds,
    pruneBatchSize: fixedAuditValues.pruneBatchSize,
    pruneMaxBatches: fixedAuditValues.pruneMaxBatches,
    review: {
      windowSeconds: audit.reviewWindowSeconds,
      rules: {
        accountFailureThreshold: audit.rules.accountFailureThreshold,
        distributedIpThreshold: fixedAuditValues.distributedIpThreshold,
        sprayAccountThreshold: audit.rules.sprayAccountThreshold,
        stuffingIpThreshold: audit.rules.stuffingIpThreshold,
        stuffingAccountThreshold: audit.rules.stuffingIpThreshold,
        stuffingFailureRatio: fixedAuditValues.stuffingFailureRatio,
        successAfterFailuresThreshold: audit.rules.successAfterFailuresThreshold,
      },
    },
    alertDedupeWindowSeconds: audit.alertDedupeWindowSeconds,
    webhook: audit.webhook && {
      url: audit.webhook.url,
      secret: audit.webhook.secret,
      maxAttempts: audit.webhook.maxAttempts,
      baseBackoffSeconds: fixedAuditValues.webhookBaseBackoffSeconds,
      maxBackoffSeconds: fixedAuditValues.webhookMaxBackoffSeconds,
    },
    schedules: { ...audit.schedules, delivery: fixedAuditValues.deliverySchedule },
    schedulerLeaseSeconds: fixedAuditValues.schedulerLeaseSeconds,
    refusalSummaries: { ...fixedAuditValues.refusalSummaries },
  }
}

/** The core's audit settings from the configuration. */
import type { AuditSettings } from '../core/audit/settings.ts'
import { defaultAuditSettings } from '../core/audit/settings.ts'
import type { Config } from './load.ts'

export function toAuditSettings(audit: Config['audit']): AuditSettings {
  return {
    ...defaultAuditSettings,
    nodeId: audit.nodeId,
    retentionSeconds: audit.retentionSeconds,
    review: {
      windowSeconds: audit.reviewWindowSeconds,
      rules: {
        ...defaultAuditSettings.review.rules,
        accountFailureThreshold: audit.rules.accountFailureThreshold,
        sprayAccountThreshold: audit.rules.sprayAccountThreshold,
        stuffingIpThreshold: audit.rules.stuffingIpThreshold,
        stuffingAccountThreshold: audit.rules.stuffingIpThreshold,
        successAfterFailuresThreshold: audit.rules.successAfterFailuresThreshold,
      },
    },
    alertDedupeWindowSeconds: audit.alertDedupeWindowSeconds,
    webhook: audit.webhook && {
      url: audit.webhook.url,
      secret: audit.webhook.secret,
      maxAttempts: audit.webhook.maxAttempts,
      baseBackoffSeconds: 15,
      maxBackoffSeconds: 3600,
    },
    schedules: { ...defaultAuditSettings.schedules, ...audit.schedules },
  }
}

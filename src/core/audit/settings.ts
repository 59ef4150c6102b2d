/** Settings of the audit trail, the review, alerts and the background jobs that run them. */
import type { WebhookSettings } from '../alerts/webhook-delivery.ts'
import type { ReviewSettings } from '../review/review.ts'
import type { RefusalSummarySettings } from './refusal-summaries.ts'

export interface AuditSettings {
  /** Names this process in events and in scheduler leases. */
  nodeId: string
  /** Events and alerts older than this are pruned. */
  retentionSeconds: number
  /** Rows deleted per batch, and batches per pruning run (bounded work per run). */
  pruneBatchSize: number
  pruneMaxBatches: number
  review: ReviewSettings
  alertDedupeWindowSeconds: number
  webhook: WebhookSettings | null
  schedules: {
    review: string
    report: string
    retention: string
    delivery: string
    /** IANA time zone of the cron expressions; null: the host's. */
    timezone: string | null
  }
  schedulerLeaseSeconds: number
  /** How refusals anyone can repeat at full speed are counted (see refusal-summaries.ts). */
  refusalSummaries: RefusalSummarySettings
}

/**
 * The scheduled jobs: the fast review, the daily report, retention pruning and webhook retries.
 * A review that raises alerts delivers them right away in the same run; the delivery job only
 * picks up retries.
 */
import type { Alerts } from '../alerts/alerts.ts'
import type { AlertDelivery } from '../alerts/webhook-delivery.ts'
import type { Audit } from '../audit/audit.ts'
import type { AuditSettings } from '../audit/settings.ts'
import { createCronSchedule } from '../scheduler/cron-schedule.ts'
import type { ScheduledJob } from '../scheduler/scheduler.ts'
import type { SecurityReview } from './review.ts'

export function createBackgroundJobs(deps: {
  review: SecurityReview
  audit: Audit
  alerts: Alerts
  delivery: AlertDelivery | null
  settings: AuditSettings
}): ScheduledJob[] {
  const { review, audit, alerts, delivery, settings } = deps
  const { schedules } = settings
  const schedule = (pattern: string) => createCronSchedule(pattern, schedules.timezone)
  const prune = {
    retentionSeconds: settings.retentionSeconds,
    batchSize: settings.pruneBatchSize,
    maxBatches: settings.pruneMaxBatches,
  }
  const jobs: ScheduledJob[] = [
    {
      name: 'security-review',
      schedule: schedule(schedules.review),
      async run(occurrenceAt) {
        const outcome = await review.runReview(occurrenceAt)
        if (delivery && outcome.alerts.length > 0) await delivery.deliverDueAlerts()
      },
    },
    {
      name: 'daily-report',
      schedule: schedule(schedules.report),
      async run(occurrenceAt) {
        const report = await review.runDailyReport(occurrenceAt)
        if (delivery && report) await delivery.deliverDueAlerts()
      },
    },
    {
      name: 'retention',
      schedule: schedule(schedules.retention),
      async run() {
        await audit.pruneEvents(prune)
        await alerts.pruneAlerts(prune)
      },
    },
  ]
  if (delivery) {
    jobs.push({
      name: 'alert-delivery',
      schedule: schedule(schedules.delivery),
      async run() {
        await delivery.deliverDueAlerts()
      },
    })
  }
  return jobs
}

/**
 * Alerts: findings of the security review, stored with their evidence and de-duplicated: one
 * alert per rule and subject within the dedupe window, so an attack that goes on for an hour is
 * one alert per window, not one per review run. A new alert is queued for the webhook when one
 * is configured; delivery happens in the background (see webhook-delivery.ts).
 */
import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { CoreObserver } from '../observer.ts'
import type { Finding } from '../review/evidence.ts'
import type { AlertCursor, AlertRecord, AlertStore } from './store.ts'

export interface AlertSettings {
  dedupeWindowSeconds: number
  isWebhookConfigured: boolean
}

export interface AlertPage {
  alerts: AlertRecord[]
  nextCursor: AlertCursor | null
}

export interface Alerts {
  /** Stores the finding as an alert; null when an alert with its dedupe key is recent enough. */
  raiseAlert(finding: Finding, window: { startsAt: Date; endsAt: Date }): Promise<AlertRecord | null>
  /** Stores a report; reports are keyed by their own dedupe key (one per day). */
  storeReport(
    report: Omit<
      AlertRecord,
      'id' | 'raisedAt' | 'deliveryState' | 'deliveryAttempts' | 'nextDeliveryAt' | 'deliveredAt'
    >,
  ): Promise<AlertRecord | null>
  listAlerts(options: {
    since: Date | null
    rule: string | null
    after: AlertCursor | null
    limit: number
  }): Promise<AlertPage>
  /** Removes alerts older than the retention, at most `batchSize` × `maxBatches`; returns how many. */
  pruneAlerts(options: { retentionSeconds: number; batchSize: number; maxBatches: number }): Promise<number>
}

export function createAlerts(deps: {
  store: AlertStore
  clock: Clock
  observer: CoreObserver
  settings: AlertSettings
}): Alerts {
  const { store, clock, observer, settings } = deps

  async function insertUnlessRecent(
    base: Omit<
      AlertRecord,
      'id' | 'raisedAt' | 'deliveryState' | 'deliveryAttempts' | 'nextDeliveryAt' | 'deliveredAt'
    >,
  ): Promise<AlertRecord | null> {
    const now = clock.now()
    const since = new Date(now.getTime() - settings.dedupeWindowSeconds * 1000)
    if (await store.findRecentAlert(base.dedupeKey, since)) return null
    const alert: AlertRecord = {
      ...base,
      id: randomUUID(),
      raisedAt: now,
      deliveryState: settings.isWebhookConfigured ? 'pending' : 'not_configured',
      deliveryAttempts: 0,
      nextDeliveryAt: settings.isWebhookConfigured ? now : null,
      deliveredAt: null,
    }
    await store.insertAlert(alert)
    observer.alertRaised(alert)
    return alert
  }

  return {
    raiseAlert: (finding, window) =>
      insertUnlessRecent({
        rule: finding.rule,
        severity: finding.severity,
        dedupeKey: finding.dedupeKey,
        summary: finding.summary,
        evidence: finding.evidence,
        windowStartsAt: window.startsAt,
        windowEndsAt: window.endsAt,
      }),

    storeReport: (report) => insertUnlessRecent(report),

    async listAlerts({ since, rule, after, limit }) {
      const rows = await store.listAlerts({ since, rule, after, limit: limit + 1 })
      const alerts = rows.slice(0, limit)
      const last = alerts.at(-1)
      return { alerts, nextCursor: rows.length > limit && last ? { raisedAt: last.raisedAt, id: last.id } : null }
    },

    async pruneAlerts({ retentionSeconds, batchSize, maxBatches }) {
      const before = new Date(clock.now().getTime() - retentionSeconds * 1000)
      let removed = 0
      for (let batch = 0; batch < maxBatches; batch += 1) {
        const count = await store.deleteAlertsBefore(before, batchSize)
        removed += count
        if (count < batchSize) break
      }
      return removed
    },
  }
}

import type { AlertDeliveryState, AlertEvidence, AlertRecord, AlertSeverity, AlertStore } from '../../core/alerts/store.ts'
import type { Database, Row } from './database.ts'

interface StoredEvidence extends Omit<AlertEvidence, 'firstSeenAt' | 'lastSeenAt'> {
  firstSeenAt: string
  lastSeenAt: string
}

function toAlert(row: Row): AlertRecord {
  const stored = JSON.parse(String(row.evidence)) as StoredEvidence
  const optionalDate = (value: unknown): Date | null => (value instanceof Date ? value : null)
  return {
    id: String(row.id),
    rule: String(row.rule),
    severity: String(row.severity) as AlertSeverity,
    dedupeKey: String(row.dedupe_key),
    summary: String(row.summary),
    evidence: { ...stored, firstSeenAt: new Date(stored.firstSeenAt), lastSeenAt: new Date(stored.lastSeenAt) },
    windowStartsAt: row.window_starts_at as Date,
    windowEndsAt: row.window_ends_at as Date,
    raisedAt: row.raised_at as Date,
    deliveryState: String(row.delivery_state) as AlertDeliveryState,
    deliveryAttempts: Number(row.delivery_attempts),
    nextDeliveryAt: optionalDate(row.next_delivery_at),
    deliveredAt: optionalDate(row.delivered_at),
  }
}

export function createPostgresAlertStore(db: Database): AlertStore {
  return {
    async insertAlert(alert) {
      const { evidence } = alert
      await db.query(
        `INSERT INTO alerts
         (id, rule, severity, dedupe_key, summary, evidence, window_starts_at, window_ends_at, raised_at,
          delivery_state, delivery_attempts, next_delivery_at, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [
          alert.id,
          alert.rule,
          alert.severity,
          alert.dedupeKey,
          alert.summary,
          JSON.stringify({ ...evidence, firstSeenAt: evidence.firstSeenAt.toISOString(), lastSeenAt: evidence.lastSeenAt.toISOString() }),
          alert.windowStartsAt,
          alert.windowEndsAt,
          alert.raisedAt,
          alert.deliveryState,
          alert.deliveryAttempts,
          alert.nextDeliveryAt,
          alert.deliveredAt,
        ],
      )
    },

    async findRecentAlert(dedupeKey, since) {
      const [row] = await db.query(
        'SELECT * FROM alerts WHERE dedupe_key = $1 AND raised_at >= $2 ORDER BY raised_at DESC, id DESC LIMIT 1',
        [dedupeKey, since],
      )
      return row ? toAlert(row) : null
    },

    async listAlerts({ since, rule, after, limit }) {
      const clauses: string[] = []
      const params: unknown[] = []
      const next = (value: unknown) => {
        params.push(value)
        return `$${params.length}`
      }
      if (since !== null) clauses.push(`raised_at >= ${next(since)}`)
      if (rule !== null) clauses.push(`rule = ${next(rule)}`)
      if (after !== null) clauses.push(`(raised_at, id) < (${next(after.raisedAt)}, ${next(after.id)})`)
      const where = clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`
      const rows = await db.query(`SELECT * FROM alerts ${where} ORDER BY raised_at DESC, id DESC LIMIT ${next(limit)}`, params)
      return rows.map(toAlert)
    },

    async listAlertsDueForDelivery(now, limit) {
      const rows = await db.query(
        `SELECT * FROM alerts WHERE delivery_state = 'pending' AND next_delivery_at <= $1
         ORDER BY next_delivery_at, id LIMIT $2`,
        [now, limit],
      )
      return rows.map(toAlert)
    },

    async updateAlertDelivery(id, update) {
      const rows = await db.query(
        `UPDATE alerts SET delivery_state = $1, delivery_attempts = $2, next_delivery_at = $3, delivered_at = $4
         WHERE id = $5 RETURNING id`,
        [update.deliveryState, update.deliveryAttempts, update.nextDeliveryAt, update.deliveredAt, id],
      )
      return rows.length === 1
    },

    async deleteAlertsBefore(before, limit) {
      const rows = await db.query(
        `DELETE FROM alerts WHERE id IN
         (SELECT id FROM alerts WHERE raised_at < $1 ORDER BY raised_at, id LIMIT $2)
         RETURNING id`,
        [before, limit],
      )
      return rows.length
    },
  }
}

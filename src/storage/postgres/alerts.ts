import type { AlertRecord, AlertStore } from '../../core/alerts/store.ts'
import { alertValues, readAlertRow, postgresInstants } from '../sql-rows.ts'
import type { SqlSession, Row } from './database.ts'

function toAlert(row: Row): AlertRecord {
  return readAlertRow(row, postgresInstants)
}

export function createPostgresAlertStore(db: SqlSession): AlertStore {
  return {
    async insertAlert(alert) {
      await db.query(
        `INSERT INTO alerts
         (id, rule, severity, dedupe_key, summary, evidence, window_starts_at, window_ends_at, raised_at,
          delivery_state, delivery_attempts, next_delivery_at, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        alertValues(alert, postgresInstants),
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
      const rows = await db.query(
        `SELECT * FROM alerts ${where} ORDER BY raised_at DESC, id DESC LIMIT ${next(limit)}`,
        params,
      )
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

import type { DatabaseSync, SQLInputValue } from 'node:sqlite'
import type { AlertRecord, AlertStore } from '../../core/alerts/store.ts'
import { alertValues, readAlertRow, sqliteInstants } from '../sql-rows.ts'

function toAlert(row: Record<string, unknown>): AlertRecord {
  return readAlertRow(row, sqliteInstants)
}

export function createSqliteAlertStore(db: DatabaseSync): AlertStore {
  const insert = db.prepare(`INSERT INTO alerts
    (id, rule, severity, dedupe_key, summary, evidence, window_starts_at, window_ends_at, raised_at,
     delivery_state, delivery_attempts, next_delivery_at, delivered_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const findRecent = db.prepare(
    'SELECT * FROM alerts WHERE dedupe_key = ? AND raised_at >= ? ORDER BY raised_at DESC, id DESC LIMIT 1',
  )
  const listDue = db.prepare(`SELECT * FROM alerts WHERE delivery_state = 'pending' AND next_delivery_at <= ?
    ORDER BY next_delivery_at, id LIMIT ?`)
  const updateDelivery = db.prepare(`UPDATE alerts
    SET delivery_state = ?, delivery_attempts = ?, next_delivery_at = ?, delivered_at = ? WHERE id = ?`)
  const deleteOldest = db.prepare(`DELETE FROM alerts WHERE id IN
    (SELECT id FROM alerts WHERE raised_at < ? ORDER BY raised_at, id LIMIT ?)`)

  return {
    async insertAlert(alert) {
      insert.run(...alertValues(alert, sqliteInstants))
    },

    async findRecentAlert(dedupeKey, since) {
      const row = findRecent.get(dedupeKey, since.getTime())
      return row ? toAlert(row) : null
    },

    async listAlerts({ since, rule, after, limit }) {
      const clauses: string[] = []
      const params: SQLInputValue[] = []
      if (since !== null) {
        clauses.push('raised_at >= ?')
        params.push(since.getTime())
      }
      if (rule !== null) {
        clauses.push('rule = ?')
        params.push(rule)
      }
      if (after !== null) {
        clauses.push('(raised_at, id) < (?, ?)')
        params.push(after.raisedAt.getTime(), after.id)
      }
      const where = clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`
      return db
        .prepare(`SELECT * FROM alerts ${where} ORDER BY raised_at DESC, id DESC LIMIT ?`)
        .all(...params, limit)
        .map(toAlert)
    },

    async listAlertsDueForDelivery(now, limit) {
      return listDue.all(now.getTime(), limit).map(toAlert)
    },

    async updateAlertDelivery(id, update) {
      const result = updateDelivery.run(
        update.deliveryState,
        update.deliveryAttempts,
        update.nextDeliveryAt?.getTime() ?? null,
        update.deliveredAt?.getTime() ?? null,
        id,
      )
      return Number(result.changes) === 1
    },

    async deleteAlertsBefore(before, limit) {
      return Number(deleteOldest.run(before.getTime(), limit).changes)
    },
  }
}

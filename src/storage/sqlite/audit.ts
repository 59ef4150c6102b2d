import type { DatabaseSync, SQLInputValue } from 'node:sqlite'
import type { AuditEventRecord, AuditEventType, AuditOutcome } from '../../core/audit/events.ts'
import type { AuditEventFilter, AuditPageRequest, AuditStore } from '../../core/audit/store.ts'
import { auditEventValues, readAuditEventRow, sqliteInstants } from '../sql-rows.ts'
import { runAtomically } from './transaction.ts'

function toEvent(row: Record<string, unknown>): AuditEventRecord {
  return readAuditEventRow(row, sqliteInstants)
}

/** The WHERE clause and its parameters for a filter and a page position. */
function buildQuery(filter: AuditEventFilter, page: AuditPageRequest): { where: string; params: SQLInputValue[] } {
  const clauses: string[] = []
  const params: SQLInputValue[] = []
  if (filter.userId !== undefined) {
    clauses.push('(subject_user_id = ? OR actor_user_id = ?)')
    params.push(filter.userId, filter.userId)
  }
  if (filter.types !== undefined) {
    clauses.push(`type IN (${filter.types.map(() => '?').join(', ') || 'NULL'})`)
    params.push(...filter.types)
  }
  if (filter.outcome !== undefined) {
    clauses.push('outcome = ?')
    params.push(filter.outcome)
  }
  if (filter.ip !== undefined) {
    clauses.push('ip = ?')
    params.push(filter.ip)
  }
  if (filter.username !== undefined) {
    clauses.push('username = ?')
    params.push(filter.username)
  }
  if (filter.since !== undefined) {
    clauses.push('occurred_at >= ?')
    params.push(filter.since.getTime())
  }
  if (filter.until !== undefined) {
    clauses.push('occurred_at < ?')
    params.push(filter.until.getTime())
  }
  if (page.after !== null) {
    const comparison = page.order === 'oldest_first' ? '>' : '<'
    clauses.push(`(occurred_at, id) ${comparison} (?, ?)`)
    params.push(page.after.occurredAt.getTime(), page.after.id)
  }
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params }
}

export function createSqliteAuditStore(db: DatabaseSync): AuditStore {
  const insert = db.prepare(`INSERT INTO audit_events
    (id, occurred_at, type, outcome, reason, actor_user_id, subject_user_id, username, ip, user_agent,
     session_id, request_id, node_id, details)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const priorEvent = db.prepare(`SELECT 1 FROM audit_events
    WHERE subject_user_id = ? AND type = ? AND outcome = ? AND occurred_at < ? LIMIT 1`)
  const priorEventFromIp = db.prepare(`SELECT 1 FROM audit_events
    WHERE subject_user_id = ? AND type = ? AND outcome = ? AND occurred_at < ? AND ip = ? LIMIT 1`)
  // A summary of repeated refusals stands for `details.repeated` attempts (refusal-summaries.ts).
  const countByType = db.prepare(`SELECT type, outcome, count(*) AS count,
    sum(coalesce(json_extract(details, '$.repeated'), 1)) AS attempts FROM audit_events
    WHERE occurred_at >= ? AND occurred_at < ? GROUP BY type, outcome ORDER BY type, outcome`)
  const deleteOldest = db.prepare(`DELETE FROM audit_events WHERE id IN
    (SELECT id FROM audit_events WHERE occurred_at < ? ORDER BY occurred_at, id LIMIT ?)`)

  const pseudonymize = db.prepare(`UPDATE audit_events SET
      actor_user_id = CASE WHEN actor_user_id = :userId THEN :pseudonymousUserId ELSE actor_user_id END,
      subject_user_id = CASE WHEN subject_user_id = :userId THEN :pseudonymousUserId ELSE subject_user_id END,
      username = CASE WHEN username = :usernameKey THEN :pseudonymousUsername ELSE username END
    WHERE actor_user_id = :userId OR subject_user_id = :userId OR username = :usernameKey`)

  function insertEvents(events: readonly AuditEventRecord[]): void {
    for (const event of events) insert.run(...auditEventValues(event, sqliteInstants))
  }

  return {
    async appendEvents(events) {
      // Several events are one batch: all of them or none.
      if (events.length > 1) runAtomically(db, () => insertEvents(events))
      else insertEvents(events)
    },

    async queryEvents(filter, page) {
      const { where, params } = buildQuery(filter, page)
      const direction = page.order === 'oldest_first' ? 'ASC' : 'DESC'
      const rows = db
        .prepare(`SELECT * FROM audit_events ${where} ORDER BY occurred_at ${direction}, id ${direction} LIMIT ?`)
        .all(...params, page.limit)
      return rows.map(toEvent)
    },

    async hasPriorUserEvent({ subjectUserId, type, outcome, before, ip }) {
      const row =
        ip === undefined
          ? priorEvent.get(subjectUserId, type, outcome, before.getTime())
          : priorEventFromIp.get(subjectUserId, type, outcome, before.getTime(), ip)
      return row !== undefined
    },

    async countEventsByType(since, until) {
      return countByType.all(since.getTime(), until.getTime()).map((row) => ({
        type: String(row.type) as AuditEventType,
        outcome: String(row.outcome) as AuditOutcome,
        count: Number(row.count),
        attempts: Number(row.attempts),
      }))
    },

    async pseudonymizeSubject({ userId, pseudonymousUserId, usernameKey, pseudonymousUsername }) {
      return Number(pseudonymize.run({ userId, pseudonymousUserId, usernameKey, pseudonymousUsername }).changes)
    },

    async deleteEventsBefore(before, limit) {
      return Number(deleteOldest.run(before.getTime(), limit).changes)
    },
  }
}

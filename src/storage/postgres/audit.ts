import type { AuditEventRecord, AuditEventType, AuditOutcome } from '../../core/audit/events.ts'
import type { AuditEventFilter, AuditPageRequest, AuditStore } from '../../core/audit/store.ts'
import { auditEventValues, postgresInstants, readAuditEventRow } from '../sql-rows.ts'
import type { SqlSession, Queryable, Row } from './database.ts'

function toEvent(row: Row): AuditEventRecord {
  return readAuditEventRow(row, postgresInstants)
}

/** The WHERE clause and its parameters for a filter and a page position. */
function buildQuery(filter: AuditEventFilter, page: AuditPageRequest): { where: string; params: unknown[] } {
  const clauses: string[] = []
  const params: unknown[] = []
  const next = (value: unknown) => {
    params.push(value)
    return `$${params.length}`
  }
  if (filter.userId !== undefined) {
    const userId = next(filter.userId)
    clauses.push(`(subject_user_id = ${userId} OR actor_user_id = ${userId})`)
  }
  if (filter.types !== undefined) clauses.push(`type = ANY(${next(filter.types)}::text[])`)
  if (filter.outcome !== undefined) clauses.push(`outcome = ${next(filter.outcome)}`)
  if (filter.ip !== undefined) clauses.push(`ip = ${next(filter.ip)}`)
  if (filter.username !== undefined) clauses.push(`username = ${next(filter.username)}`)
  if (filter.since !== undefined) clauses.push(`occurred_at >= ${next(filter.since)}`)
  if (filter.until !== undefined) clauses.push(`occurred_at < ${next(filter.until)}`)
  if (page.after !== null) {
    const comparison = page.order === 'oldest_first' ? '>' : '<'
    clauses.push(`(occurred_at, id) ${comparison} (${next(page.after.occurredAt)}, ${next(page.after.id)})`)
  }
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params }
}

async function insertEvents(db: Queryable, events: readonly AuditEventRecord[]): Promise<void> {
  for (const event of events) {
    await db.query(
      `INSERT INTO audit_events
       (id, occurred_at, type, outcome, reason, actor_user_id, subject_user_id, username, ip, user_agent,
        session_id, request_id, node_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      auditEventValues(event, postgresInstants),
    )
  }
}

/** The audit trail; a unit of work appends a change's events in the change's own transaction. */
export function createPostgresAuditStore(db: SqlSession): AuditStore {
  return {
    async appendEvents(events) {
      // Several events are one batch: all of them or none.
      if (events.length > 1) await db.transaction((tx) => insertEvents(tx, events))
      else await insertEvents(db, events)
    },

    async queryEvents(filter, page) {
      const { where, params } = buildQuery(filter, page)
      const direction = page.order === 'oldest_first' ? 'ASC' : 'DESC'
      const rows = await db.query(
        `SELECT * FROM audit_events ${where} ORDER BY occurred_at ${direction}, id ${direction} LIMIT $${params.length + 1}`,
        [...params, page.limit],
      )
      return rows.map(toEvent)
    },

    async hasPriorUserEvent({ subjectUserId, type, outcome, before, ip }) {
      const rows =
        ip === undefined
          ? await db.query(
              `SELECT 1 FROM audit_events
             WHERE subject_user_id = $1 AND type = $2 AND outcome = $3 AND occurred_at < $4 LIMIT 1`,
              [subjectUserId, type, outcome, before],
            )
          : await db.query(
              `SELECT 1 FROM audit_events
             WHERE subject_user_id = $1 AND type = $2 AND outcome = $3 AND occurred_at < $4 AND ip = $5 LIMIT 1`,
              [subjectUserId, type, outcome, before, ip],
            )
      return rows.length > 0
    },

    async countEventsByType(since, until) {
      const rows = await db.query(
        // A summary of repeated refusals stands for `details.repeated` attempts (refusal-summaries.ts).
        `SELECT type, outcome, count(*) AS count,
           sum(coalesce((details::jsonb ->> 'repeated')::integer, 1)) AS attempts FROM audit_events
         WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY type, outcome ORDER BY type COLLATE "C", outcome COLLATE "C"`,
        [since, until],
      )
      return rows.map((row) => ({
        type: String(row.type) as AuditEventType,
        outcome: String(row.outcome) as AuditOutcome,
        count: Number(row.count),
        attempts: Number(row.attempts),
      }))
    },

    async pseudonymizeSubject({ userId, pseudonymousUserId, usernameKey, pseudonymousUsername }) {
      const rows = await db.query(
        `UPDATE audit_events SET
           actor_user_id = CASE WHEN actor_user_id = $1 THEN $2 ELSE actor_user_id END,
           subject_user_id = CASE WHEN subject_user_id = $1 THEN $2 ELSE subject_user_id END,
           username = CASE WHEN username = $3 THEN $4 ELSE username END
         WHERE actor_user_id = $1 OR subject_user_id = $1 OR username = $3
         RETURNING id`,
        [userId, pseudonymousUserId, usernameKey, pseudonymousUsername],
      )
      return rows.length
    },

    async deleteEventsBefore(before, limit) {
      const rows = await db.query(
        `DELETE FROM audit_events WHERE id IN
         (SELECT id FROM audit_events WHERE occurred_at < $1 ORDER BY occurred_at, id LIMIT $2)
         RETURNING id`,
        [before, limit],
      )
      return rows.length
    },
  }
}

/**
 * An audit event as both SQL backends store it: the same columns, one row per event. Only the
 * instant differs in its column type (a timestamptz in PostgreSQL, epoch milliseconds in SQLite),
 * so each backend converts it and passes it in.
 */
import type { AuditDetails, AuditEventRecord, AuditEventType, AuditOutcome, AuditReason } from '../core/audit/events.ts'

const optional = (value: unknown): string | null => (value === null || value === undefined ? null : String(value))

export function readAuditEventRow(row: Record<string, unknown>, occurredAt: Date): AuditEventRecord {
  return {
    id: String(row.id),
    occurredAt,
    type: String(row.type) as AuditEventType,
    outcome: String(row.outcome) as AuditOutcome,
    reason: optional(row.reason) as AuditReason | null,
    actorUserId: optional(row.actor_user_id),
    subjectUserId: optional(row.subject_user_id),
    username: optional(row.username),
    ip: optional(row.ip),
    userAgent: optional(row.user_agent),
    sessionId: optional(row.session_id),
    requestId: optional(row.request_id),
    nodeId: String(row.node_id),
    details: JSON.parse(String(row.details)) as AuditDetails,
  }
}

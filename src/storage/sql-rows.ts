/**
 * Rows both SQL backends store alike: audit events and alerts have the same columns in
 * PostgreSQL and SQLite. Only instants differ in their column type (timestamptz there, epoch
 * milliseconds here), so each backend passes its own way of reading and writing them.
 */
import type { AlertDeliveryState, AlertEvidence, AlertRecord, AlertSeverity } from '../core/alerts/store.ts'
import type { AuditDetails, AuditEventRecord, AuditEventType, AuditOutcome, AuditReason } from '../core/audit/events.ts'

export interface SqlInstants<T> {
  /** An instant column as the driver returns it; null for NULL. */
  read(value: unknown): Date | null
  /** The value to bind for an instant. */
  write(instant: Date): T
}

export const postgresInstants: SqlInstants<Date> = {
  read: (value) => (value instanceof Date ? value : null),
  write: (instant) => instant,
}

export const sqliteInstants: SqlInstants<number> = {
  read: (value) => (value === null || value === undefined ? null : new Date(Number(value))),
  write: (instant) => instant.getTime(),
}

const optional = (value: unknown): string | null => (value === null || value === undefined ? null : String(value))

function required(instants: SqlInstants<unknown>, value: unknown): Date {
  return instants.read(value) ?? new Date(Number.NaN)
}

/** Column order: id, occurred_at, type, outcome, reason, actor_user_id, subject_user_id, username, ip, user_agent, session_id, request_id, node_id, details. */
export function auditEventValues<T>(event: AuditEventRecord, instants: SqlInstants<T>): Array<string | null | T> {
  return [
    event.id,
    instants.write(event.occurredAt),
    event.type,
    event.outcome,
    event.reason,
    event.actorUserId,
    event.subjectUserId,
    event.username,
    event.ip,
    event.userAgent,
    event.sessionId,
    event.requestId,
    event.nodeId,
    JSON.stringify(event.details),
  ]
}

export function readAuditEventRow(row: Record<string, unknown>, instants: SqlInstants<unknown>): AuditEventRecord {
  return {
    id: String(row.id),
    occurredAt: required(instants, row.occurred_at),
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

interface StoredEvidence extends Omit<AlertEvidence, 'firstSeenAt' | 'lastSeenAt'> {
  firstSeenAt: string
  lastSeenAt: string
}

/** Column order: id, rule, severity, dedupe_key, summary, evidence, window_starts_at, window_ends_at, raised_at, delivery_state, delivery_attempts, next_delivery_at, delivered_at. */
export function alertValues<T>(alert: AlertRecord, instants: SqlInstants<T>): Array<string | number | null | T> {
  const { evidence } = alert
  return [
    alert.id,
    alert.rule,
    alert.severity,
    alert.dedupeKey,
    alert.summary,
    JSON.stringify({
      ...evidence,
      firstSeenAt: evidence.firstSeenAt.toISOString(),
      lastSeenAt: evidence.lastSeenAt.toISOString(),
    }),
    instants.write(alert.windowStartsAt),
    instants.write(alert.windowEndsAt),
    instants.write(alert.raisedAt),
    alert.deliveryState,
    alert.deliveryAttempts,
    alert.nextDeliveryAt === null ? null : instants.write(alert.nextDeliveryAt),
    alert.deliveredAt === null ? null : instants.write(alert.deliveredAt),
  ]
}

export function readAlertRow(row: Record<string, unknown>, instants: SqlInstants<unknown>): AlertRecord {
  const stored = JSON.parse(String(row.evidence)) as StoredEvidence
  return {
    id: String(row.id),
    rule: String(row.rule),
    severity: String(row.severity) as AlertSeverity,
    dedupeKey: String(row.dedupe_key),
    summary: String(row.summary),
    evidence: { ...stored, firstSeenAt: new Date(stored.firstSeenAt), lastSeenAt: new Date(stored.lastSeenAt) },
    windowStartsAt: required(instants, row.window_starts_at),
    windowEndsAt: required(instants, row.window_ends_at),
    raisedAt: required(instants, row.raised_at),
    deliveryState: String(row.delivery_state) as AlertDeliveryState,
    deliveryAttempts: Number(row.delivery_attempts),
    nextDeliveryAt: instants.read(row.next_delivery_at),
    deliveredAt: instants.read(row.delivered_at),
  }
}

/** The public shapes of audit events and alerts, and their views. */
import {
  auditEventTypes,
  auditOutcomes,
  auditReasons,
  describeAlertForWebhook,
  type AlertRecord,
  type AuditCursor,
  type AuditEventRecord,
} from '../../core/application/types.ts'

const nullableString = { type: ['string', 'null'] } as const

export const auditEventSchema = {
  $id: 'AuditEvent',
  type: 'object',
  description: 'One audit event. `session_id` is the public session handle, never a token.',
  properties: {
    id: { type: 'string' },
    occurred_at: { type: 'string', format: 'date-time' },
    type: { type: 'string', enum: [...auditEventTypes] },
    outcome: { type: 'string', enum: [...auditOutcomes] },
    reason: { type: ['string', 'null'], enum: [...auditReasons, null] },
    actor_user_id: nullableString,
    subject_user_id: nullableString,
    username: nullableString,
    ip: nullableString,
    user_agent: nullableString,
    session_id: nullableString,
    request_id: nullableString,
    node_id: { type: 'string' },
    details: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
  },
  required: [
    'id',
    'occurred_at',
    'type',
    'outcome',
    'reason',
    'actor_user_id',
    'subject_user_id',
    'username',
    'ip',
    'user_agent',
    'session_id',
    'request_id',
    'node_id',
    'details',
  ],
} as const

export const alertSchema = {
  $id: 'Alert',
  type: 'object',
  properties: {
    id: { type: 'string' },
    rule: { type: 'string' },
    severity: { type: 'string', enum: ['info', 'low', 'medium', 'high'] },
    summary: { type: 'string' },
    raised_at: { type: 'string', format: 'date-time' },
    window: {
      type: 'object',
      properties: {
        starts_at: { type: 'string', format: 'date-time' },
        ends_at: { type: 'string', format: 'date-time' },
      },
      required: ['starts_at', 'ends_at'],
    },
    evidence: {
      type: 'object',
      properties: {
        counts: { type: 'object', additionalProperties: { type: 'number' } },
        ips: { type: 'array', items: { type: 'string' } },
        usernames: { type: 'array', items: { type: 'string' } },
        user_ids: { type: 'array', items: { type: 'string' } },
        session_ids: { type: 'array', items: { type: 'string' } },
        event_ids: { type: 'array', items: { type: 'string' } },
        first_seen_at: { type: 'string', format: 'date-time' },
        last_seen_at: { type: 'string', format: 'date-time' },
      },
      required: ['counts', 'ips', 'usernames', 'user_ids', 'session_ids', 'event_ids', 'first_seen_at', 'last_seen_at'],
    },
    delivery: {
      type: 'object',
      properties: {
        state: { type: 'string', enum: ['not_configured', 'pending', 'delivered', 'abandoned'] },
        attempts: { type: 'integer' },
        delivered_at: { type: ['string', 'null'], format: 'date-time' },
      },
      required: ['state', 'attempts', 'delivered_at'],
    },
  },
  required: ['id', 'rule', 'severity', 'summary', 'raised_at', 'window', 'evidence', 'delivery'],
} as const

export function viewAuditEvent(event: AuditEventRecord) {
  return {
    id: event.id,
    occurred_at: event.occurredAt.toISOString(),
    type: event.type,
    outcome: event.outcome,
    reason: event.reason,
    actor_user_id: event.actorUserId,
    subject_user_id: event.subjectUserId,
    username: event.username,
    ip: event.ip,
    user_agent: event.userAgent,
    session_id: event.sessionId,
    request_id: event.requestId,
    node_id: event.nodeId,
    details: event.details,
  }
}

/**
 * An event as the user it concerns sees it (`GET /v1/me/events`). The address and user agent are
 * those of whoever made the request: shown only when the user made it, so an administrator's
 * network and browser (a role change, an unlock) or a stranger's (a failed sign-in) stay with
 * the administrators who read the full trail.
 */
export function viewOwnAuditEvent(event: AuditEventRecord, userId: string) {
  const isOwnRequest = event.actorUserId === userId
  return {
    id: event.id,
    occurred_at: event.occurredAt.toISOString(),
    type: event.type,
    outcome: event.outcome,
    ip: isOwnRequest ? event.ip : null,
    user_agent: isOwnRequest ? event.userAgent : null,
    session_id: event.sessionId,
  }
}

export function viewAlert(alert: AlertRecord) {
  // The API shows what the webhook receives, plus the delivery state.
  return {
    ...describeAlertForWebhook(alert),
    delivery: {
      state: alert.deliveryState,
      attempts: alert.deliveryAttempts,
      delivered_at: alert.deliveredAt?.toISOString() ?? null,
    },
  }
}

/** Cursors are opaque to clients: `<ms>.<id>` in base64url. */
export function encodeTimeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.getTime()}.${id}`, 'utf8').toString('base64url')
}

export function decodeTimeCursor(cursor: string | undefined): { at: Date; id: string } | null {
  if (cursor === undefined) return null
  const match = /^(\d{1,15})\.([0-9A-Za-z-]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  return match ? { at: new Date(Number(match[1])), id: match[2] ?? '' } : null
}

export function toAuditCursor(cursor: { at: Date; id: string } | null): AuditCursor | null {
  return cursor && { occurredAt: cursor.at, id: cursor.id }
}

export const cursorField = { type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]*$' } as const

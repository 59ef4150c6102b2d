/**
 * The events of the real-time stream (`GET /v1/events/stream`): what a game server or any
 * resource server must learn at once rather than at the expiry of the access tokens it holds.
 * They travel between nodes on the invalidation bus, each with the id and instant its origin
 * node gave it, so every node tells its stream clients the same event under the same id.
 */

/** Why a session ended: each ending path passes its own. */
export const sessionEndReasons = [
  'logout',
  'ended_by_user',
  'limit',
  'password_change',
  'refresh_reuse',
  'mfa_reset',
  'token_revoked',
  'kick',
  'disabled',
  'deleted',
  'password_set',
  'password_reset',
  'device_unlinked',
] as const

export type SessionEndReason = (typeof sessionEndReasons)[number]

export type RealtimeEvent =
  | { type: 'session_ended'; userId: string; sessionId: string; reason: SessionEndReason }
  | { type: 'roles_changed'; userId: string; roles: string[] }
  | { type: 'keys_rotated' }

/** An event as the stream sends it: the origin node's id and instant (epoch ms). */
export interface StampedEvent {
  id: string
  at: number
  event: RealtimeEvent
}

const idPattern = /^(\d{13})-[0-9a-f]{8}-\d{1,12}$/

/** The instant an event id was given at, or null when the text is no event id. */
export function readEventIdInstant(id: string): number | null {
  const match = idPattern.exec(id)
  return match?.[1] === undefined ? null : Number(match[1])
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/** Reads an event received from another node; null for anything malformed. */
export function parseStampedEvent(value: unknown): StampedEvent | null {
  if (typeof value !== 'object' || value === null) return null
  const { id, at, event } = value as Record<string, unknown>
  if (
    typeof id !== 'string' ||
    typeof at !== 'number' ||
    readEventIdInstant(id) !== at ||
    typeof event !== 'object' ||
    event === null
  )
    return null
  const fields = event as Record<string, unknown>
  const { type, userId, sessionId, reason, roles } = fields
  if (type === 'keys_rotated') return { id, at, event: { type } }
  if (typeof userId !== 'string') return null
  if (type === 'roles_changed' && isStringArray(roles)) return { id, at, event: { type, userId, roles } }
  if (
    type === 'session_ended' &&
    typeof sessionId === 'string' &&
    sessionEndReasons.includes(reason as SessionEndReason)
  ) {
    return { id, at, event: { type, userId, sessionId, reason: reason as SessionEndReason } }
  }
  return null
}

/** The `data` of the event on the wire (snake_case, like the rest of the API). */
export function describeEventData(stamped: StampedEvent): Record<string, unknown> {
  const at = new Date(stamped.at).toISOString()
  const { event } = stamped
  switch (event.type) {
    case 'session_ended':
      return { user_id: event.userId, session_id: event.sessionId, reason: event.reason, at }
    case 'roles_changed':
      return { user_id: event.userId, roles: event.roles, at }
    case 'keys_rotated':
      return { at }
  }
}

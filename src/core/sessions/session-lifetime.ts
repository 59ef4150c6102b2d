/**
 * When a session ends, as one rule for every place that answers it (the session check, session
 * lists, introspection of a refresh token): `idleTimeoutSeconds` after it was last seen (sliding),
 * or at its absolute expiry, whichever comes first. A session also ends earlier when it is
 * revoked, or when its user's session epoch moves on (see sessions.ts).
 */
import type { SessionRecord } from './store.ts'

/** The instant the session ends if nothing else ends it first. */
export function computeSessionEndsAt(session: SessionRecord, idleTimeoutSeconds: number): Date {
  const idleEndMs = session.lastSeenAt.getTime() + idleTimeoutSeconds * 1000
  return new Date(Math.min(idleEndMs, session.absoluteExpiresAt.getTime()))
}

/** True once the session has timed out at `nowMs`. */
export function hasSessionTimedOut(session: SessionRecord, idleTimeoutSeconds: number, nowMs: number): boolean {
  return (
    nowMs >= session.absoluteExpiresAt.getTime() || nowMs - session.lastSeenAt.getTime() >= idleTimeoutSeconds * 1000
  )
}

/** The audit events of the session lifecycle that the sessions module itself decides. */
import type { AuditEventInput } from '../audit/audit.ts'
import type { RequestContext } from '../request-context.ts'
import type { SessionRecord } from './store.ts'

/** Expiry is noticed when the session is next presented; no request context is kept for it. */
const expiryContext: RequestContext = { ip: null, userAgent: null, requestId: null }

export function describeExpiry(session: SessionRecord, nowMs: number): AuditEventInput {
  const isAbsolute = nowMs >= session.absoluteExpiresAt.getTime()
  return {
    type: 'session_expired',
    outcome: 'success',
    reason: isAbsolute ? 'absolute_timeout' : 'idle_timeout',
    subjectUserId: session.userId,
    sessionId: session.id,
    context: expiryContext,
  }
}

export type RefreshAuditOutcome = 'rotated' | 'grace' | 'reused' | 'expired' | 'missing'

export function describeRefresh(
  outcome: RefreshAuditOutcome,
  session: SessionRecord | null,
  context: RequestContext,
): AuditEventInput {
  if (outcome === 'missing' || session === null) {
    return { type: 'token_refresh_failed', outcome: 'failure', reason: 'unknown_token', context }
  }
  const about = { actorUserId: session.userId, subjectUserId: session.userId, sessionId: session.id, context }
  if (outcome === 'reused') return { type: 'refresh_token_reused', outcome: 'failure', reason: 'reused', ...about }
  if (outcome === 'expired') return { type: 'token_refresh_failed', outcome: 'failure', reason: 'expired', ...about }
  return {
    type: 'token_refreshed',
    outcome: 'success',
    reason: 'rotation',
    ...about,
    ...(outcome === 'grace' ? { details: { grace: true } } : {}),
  }
}

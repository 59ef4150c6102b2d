/** The audit events of sign-in, password change and their sessions. */
import type { UserRecord } from '../accounts/store.ts'
import type { AuditEventInput } from '../audit/audit.ts'
import type { AuditReason } from '../audit/events.ts'
import type { ErrorCode } from '../errors.ts'
import type { RequestContext } from '../request-context.ts'
import type { SessionRecord } from '../sessions/store.ts'

/**
 * A session opened by a sign-in (`login_succeeded`), or by a password change, which replaces the
 * user's sessions with a new one (`session_started`, so sign-in statistics count sign-ins only).
 */
export function describeSessionStart(
  user: UserRecord,
  session: SessionRecord,
  context: RequestContext,
  cause: 'sign_in' | 'password_changed' = 'sign_in',
): AuditEventInput {
  return {
    type: cause === 'sign_in' ? 'login_succeeded' : 'session_started',
    outcome: 'success',
    ...(cause === 'sign_in' ? {} : { reason: 'password_changed' as const }),
    actorUserId: user.id,
    subjectUserId: user.id,
    username: user.usernameKey,
    sessionId: session.id,
    details: { transport: session.transport },
    context,
  }
}

/**
 * Why a login failed, from what the store holds for the attempted name. `existing` is looked
 * up on every failure, whatever the reason, so this lookup adds the same work to each path.
 * `isHashUsable` false flags an account whose stored hash can never match (out-of-bounds
 * argon2 parameters): admins find it in the trail and give the user a new password.
 */
export function describeLoginFailure(
  username: string,
  existing: UserRecord | null,
  context: RequestContext,
  isHashUsable = true,
): AuditEventInput {
  let reason: AuditReason = 'unknown_user'
  if (existing)
    reason =
      existing.disabledAt !== null ? 'account_disabled' : isHashUsable ? 'bad_password' : 'unusable_password_hash'
  return {
    type: 'login_failed',
    outcome: 'failure',
    reason,
    subjectUserId: existing?.id ?? null,
    username,
    context,
  }
}

export function describePasswordChangeFailure(
  principal: { user: UserRecord; session: SessionRecord },
  code: ErrorCode,
  context: RequestContext,
): AuditEventInput {
  return {
    type: 'password_change_failed',
    outcome: 'failure',
    reason: code === 'invalid_credentials' ? 'bad_password' : 'password_rejected',
    actorUserId: principal.user.id,
    subjectUserId: principal.user.id,
    sessionId: principal.session.id,
    context,
  }
}

export function describePasswordChange(
  principal: { user: UserRecord; session: SessionRecord },
  ended: readonly SessionRecord[],
  context: RequestContext,
): AuditEventInput[] {
  const about = { actorUserId: principal.user.id, subjectUserId: principal.user.id, context }
  return [
    {
      type: 'password_changed',
      outcome: 'success',
      sessionId: principal.session.id,
      details: { sessions_ended: ended.length },
      ...about,
    },
    ...ended.map((session) => ({
      type: 'session_revoked' as const,
      outcome: 'success' as const,
      reason: 'password_changed' as const,
      sessionId: session.id,
      ...about,
    })),
  ]
}

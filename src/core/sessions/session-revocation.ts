/** A user ending their own sessions, one event per session ended (the handle, never a token). */
import type { Audit, AuditEventInput } from '../audit/audit.ts'
import type { RequestContext } from '../request-context.ts'
import type { Sessions } from './sessions.ts'

export interface SessionRevocation {
  /** Ends one of the caller's sessions; false when the caller has no such session. */
  revokeOwnSession(caller: { userId: string; sessionId: string }, sessionId: string, context: RequestContext): Promise<boolean>
  /** Ends the caller's other sessions, or all of them; returns how many ended. */
  revokeOwnSessions(caller: { userId: string; sessionId: string }, includesCurrent: boolean, context: RequestContext): Promise<number>
}

export function createSessionRevocation(deps: { sessions: Sessions; audit: Audit }): SessionRevocation {
  const { sessions, audit } = deps

  function describe(caller: { userId: string; sessionId: string }, sessionId: string, context: RequestContext): AuditEventInput {
    const isCurrent = sessionId === caller.sessionId
    return {
      type: isCurrent ? 'logged_out' : 'session_revoked',
      outcome: 'success',
      reason: isCurrent ? 'logout' : 'revoked_by_user',
      actorUserId: caller.userId,
      subjectUserId: caller.userId,
      sessionId,
      details: isCurrent ? {} : { revoked_from_session: caller.sessionId },
      context,
    }
  }

  return {
    revokeOwnSession: (caller, sessionId, context) =>
      audit.recordChange(
        () => sessions.endUserSession(caller.userId, sessionId),
        (ended) => (ended ? [describe(caller, sessionId, context)] : []),
      ),

    async revokeOwnSessions(caller, includesCurrent, context) {
      const { ended } = await audit.recordChange(
        async () => {
          const ids = (await sessions.listUserSessions(caller.userId))
            .map((session) => session.id)
            .filter((id) => includesCurrent || id !== caller.sessionId)
          await sessions.endUserSessions(caller.userId, includesCurrent ? null : caller.sessionId)
          return { ended: ids }
        },
        ({ ended: ids }) => ids.map((id) => describe(caller, id, context)),
      )
      return ended.length
    },
  }
}

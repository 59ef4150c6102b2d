/** A signed-in user's view of their own sessions: list them, end one, end the others or all. */
import type { AuditEventInput } from '../audit/audit.ts'
import type { RequestContext } from '../request-context.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { SessionRecord } from '../sessions/store.ts'
import type { UnitOfWork } from '../unit-of-work.ts'

export interface SessionOwner {
  userId: string
  /** The session the request came from. */
  sessionId: string
}

export interface MySessionOperations {
  /** The caller's live sessions, newest first. */
  listMySessions(caller: SessionOwner): Promise<SessionRecord[]>
  /** Ends one of the caller's sessions; false when the caller has no such live session. */
  endMySession(caller: SessionOwner, sessionId: string, context: RequestContext): Promise<boolean>
  /** Ends the caller's other sessions, or all of them; returns how many ended. */
  endMySessions(caller: SessionOwner, includesCurrent: boolean, context: RequestContext): Promise<number>
}

export function createMySessionOperations(deps: { sessions: Sessions; unitOfWork: UnitOfWork }): MySessionOperations {
  const { sessions, unitOfWork } = deps

  /** One event per session ended (the handle, never a token). */
  function describe(caller: SessionOwner, sessionId: string, context: RequestContext): AuditEventInput {
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

  async function end(caller: SessionOwner, ending: readonly SessionRecord[], context: RequestContext): Promise<number> {
    if (ending.length === 0) return 0
    await unitOfWork.run(async (change) => {
      const isCurrent = (session: SessionRecord) => session.id === caller.sessionId
      await sessions.endSessionsIn(change, ending.filter(isCurrent), 'logout')
      await sessions.endSessionsIn(
        change,
        ending.filter((session) => !isCurrent(session)),
        'ended_by_user',
      )
      for (const session of ending) change.record(describe(caller, session.id, context))
    })
    return ending.length
  }

  return {
    listMySessions: (caller) => sessions.listLiveSessions(caller.userId),

    async endMySession(caller, sessionId, context) {
      const target = (await sessions.listLiveSessions(caller.userId)).filter((session) => session.id === sessionId)
      return (await end(caller, target, context)) === 1
    },

    async endMySessions(caller, includesCurrent, context) {
      const live = await sessions.listLiveSessions(caller.userId)
      return end(
        caller,
        live.filter((session) => includesCurrent || session.id !== caller.sessionId),
        context,
      )
    },
  }
}

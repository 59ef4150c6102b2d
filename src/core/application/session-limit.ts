/**
 * The second half of a sign-in that found the user's session limit reached with the policy
 * `end_oldest`: the session store has already marked the oldest sessions ended (one atomic step
 * with the new session's insertion); here their end is recorded in the durable store with its
 * events, other nodes and stream clients are told (reason `limit`), and their holders will be
 * told `signed_in_elsewhere`. If this fails, the new session is discarded: the old ones are over
 * anyway, and the user signs in again.
 */
import type { RequestContext } from '../request-context.ts'
import type { Sessions, StartedSession } from '../sessions/sessions.ts'
import type { UnitOfWork } from '../unit-of-work.ts'

export async function recordSessionsEndedByLimit(
  deps: { sessions: Sessions; unitOfWork: UnitOfWork },
  started: StartedSession,
  context: RequestContext,
): Promise<void> {
  const { sessions, unitOfWork } = deps
  const ended = started.endedSessions
  if (ended.length === 0) return
  try {
    await unitOfWork.run(async (change) => {
      await sessions.endSessionsIn(change, ended, 'limit')
      for (const session of ended) {
        change.record({
          type: 'session_revoked',
          outcome: 'success',
          reason: 'session_limit',
          actorUserId: session.userId,
          subjectUserId: session.userId,
          sessionId: session.id,
          // A session ended by a parallel sign-in before it was handed out names no replacement.
          details: session.id === started.session.id ? {} : { replaced_by_session: started.session.id },
          context,
        })
      }
    })
  } catch (error) {
    await sessions.discardSession(started.session).catch(() => {
      // Its token was never handed out: an undeleted record serves nobody and expires.
    })
    throw error
  }
}

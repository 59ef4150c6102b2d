/**
 * Presence for operators: who is online, with their live sessions and last activity, and how
 * many users were active lately. Read from the session store's last-seen index, then checked
 * against the durable store as every session is (an ended, disabled or deleted user's session is
 * not online, whatever a hot store still holds). Last activity is as exact as sessions record it:
 * a session's `lastSeenAt` moves at most every minute (5 % of the idle timeout when that is less).
 */
import type { Accounts } from '../accounts/accounts.ts'
import type { UserRecord } from '../accounts/store.ts'
import type { Clock } from '../clock.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { SessionRecord, SessionStore } from '../sessions/store.ts'

export interface OnlineUser {
  user: UserRecord
  /** Live sessions, newest first. */
  sessions: SessionRecord[]
  lastSeenAt: Date
}

export interface Presence {
  /** Users with a live session, the most recently active first, at most `limit`. */
  users: OnlineUser[]
  /** How many of them were active within `activeWithinSeconds`. */
  activeUserCount: number
  activeWithinSeconds: number
  /** True when more sessions were live than one look reads (the list and count are then partial). */
  isTruncated: boolean
}

export interface PresenceOperations {
  describePresence(options: { activeWithinSeconds: number; limit: number }): Promise<Presence>
}

/** Sessions read at most per look: bounds the work of one request, whatever the load. */
const maxSessionsRead = 5000

export function createPresenceOperations(deps: {
  sessionStore: Pick<SessionStore, 'listRecentSessions'>
  sessions: Pick<Sessions, 'listLiveSessions'>
  accounts: Pick<Accounts, 'findUser'>
  clock: Clock
  idleTimeoutSeconds: number
}): PresenceOperations {
  const { sessionStore, sessions, accounts, clock, idleTimeoutSeconds } = deps
  return {
    async describePresence({ activeWithinSeconds, limit }) {
      const now = clock.now()
      const recent = await sessionStore.listRecentSessions(
        new Date(now.getTime() - idleTimeoutSeconds * 1000),
        now,
        maxSessionsRead,
      )
      const userIds = [...new Set(recent.map((session) => session.userId))]
      const activeSince = now.getTime() - activeWithinSeconds * 1000
      const online: OnlineUser[] = []
      let activeUserCount = 0
      // One user after the other: a look at presence must not take a whole connection pool.
      for (const userId of userIds) {
        const live = await sessions.listLiveSessions(userId)
        if (live.length === 0) continue
        const lastSeenAt = new Date(Math.max(...live.map((session) => session.lastSeenAt.getTime())))
        if (lastSeenAt.getTime() >= activeSince) activeUserCount += 1
        if (online.length >= limit) continue
        const user = await accounts.findUser(userId)
        if (user) online.push({ user, sessions: live, lastSeenAt })
      }
      online.sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime())
      return { users: online, activeUserCount, activeWithinSeconds, isTruncated: recent.length >= maxSessionsRead }
    },
  }
}

import type { DatabaseSync } from 'node:sqlite'
import type { RevokedSessionStore } from '../../core/sessions/store.ts'
import { runAtomically } from './transaction.ts'

export function createSqliteRevokedSessionStore(db: DatabaseSync): RevokedSessionStore {
  const insert = db.prepare(`INSERT INTO revoked_sessions (session_id, keep_until) VALUES (?, ?)
    ON CONFLICT (session_id) DO UPDATE SET keep_until = max(keep_until, excluded.keep_until)`)
  const findOne = db.prepare('SELECT 1 FROM revoked_sessions WHERE session_id = ?')
  const deleteExpired = db.prepare('DELETE FROM revoked_sessions WHERE keep_until < ?')

  return {
    async insertRevokedSessions(sessionIds, keepUntil) {
      runAtomically(db, () => {
        for (const id of sessionIds) insert.run(id, keepUntil.getTime())
      })
    },

    async findRevokedSessions(sessionIds) {
      return sessionIds.filter((id) => findOne.get(id) !== undefined)
    },

    async deleteExpiredRevokedSessions(now) {
      return Number(deleteExpired.run(now.getTime()).changes)
    },
  }
}

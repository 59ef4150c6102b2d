import type { RevokedSessionStore } from '../../core/sessions/store.ts'
import type { SqlSession } from './database.ts'

export function createPostgresRevokedSessionStore(db: SqlSession): RevokedSessionStore {
  return {
    async insertRevokedSessions(sessionIds, keepUntil) {
      if (sessionIds.length === 0) return
      await db.query(
        `INSERT INTO revoked_sessions (session_id, keep_until) SELECT unnest($1::text[]), $2
         ON CONFLICT (session_id) DO UPDATE SET keep_until = greatest(revoked_sessions.keep_until, excluded.keep_until)`,
        [sessionIds, keepUntil],
      )
    },

    async findRevokedSessions(sessionIds) {
      if (sessionIds.length === 0) return []
      const rows = await db.query('SELECT session_id FROM revoked_sessions WHERE session_id = ANY($1::text[])', [
        sessionIds,
      ])
      const revoked = new Set(rows.map((row) => String(row.session_id)))
      return sessionIds.filter((id) => revoked.has(id))
    },

    async deleteExpiredRevokedSessions(now) {
      return (await db.query('DELETE FROM revoked_sessions WHERE keep_until < $1 RETURNING session_id', [now])).length
    },
  }
}

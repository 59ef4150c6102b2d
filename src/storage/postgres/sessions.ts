import type { SessionRecord, SessionStore } from '../../core/sessions/store.ts'
import type { SqlSession, Row } from './database.ts'

export function toSession(row: Row): SessionRecord {
  const optional = (value: unknown): string | null => (value === null ? null : String(value))
  return {
    id: String(row.id),
    tokenHash: optional(row.token_hash),
    userId: String(row.user_id),
    userEpoch: Number(row.user_epoch),
    transport: row.transport === 'cookie' ? 'cookie' : 'token',
    createdAt: row.created_at as Date,
    lastSeenAt: row.last_seen_at as Date,
    absoluteExpiresAt: row.absolute_expires_at as Date,
    ip: String(row.ip),
    userAgent: String(row.user_agent),
    authenticatedAt: row.authenticated_at as Date,
    amr: String(row.amr).split(' '),
  }
}

export function createPostgresSessionStore(db: SqlSession): SessionStore {
  async function findOne(column: 'id' | 'token_hash', value: string) {
    const [row] = await db.query(`SELECT * FROM sessions WHERE ${column} = $1`, [value])
    return row ? toSession(row) : null
  }

  return {
    async insertSession(session) {
      await db.query(
        `INSERT INTO sessions (id, token_hash, user_id, user_epoch, transport, created_at, last_seen_at,
           absolute_expires_at, ip, user_agent, authenticated_at, amr)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          session.id,
          session.tokenHash,
          session.userId,
          session.userEpoch,
          session.transport,
          session.createdAt,
          session.lastSeenAt,
          session.absoluteExpiresAt,
          session.ip,
          session.userAgent,
          session.authenticatedAt,
          session.amr.join(' '),
        ],
      )
    },

    findSessionById: (id) => findOne('id', id),

    findSessionByTokenHash: (tokenHash) => findOne('token_hash', tokenHash),

    async touchSession(id, lastSeenAt) {
      await db.query('UPDATE sessions SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1', [id, lastSeenAt])
    },

    async recordSessionAuthentication(id, authenticatedAt, amr) {
      const rows = await db.query(
        `UPDATE sessions SET authenticated_at = greatest(authenticated_at, $2),
           amr = CASE WHEN authenticated_at <= $2 THEN $3 ELSE amr END
         WHERE id = $1 RETURNING id`,
        [id, authenticatedAt, amr.join(' ')],
      )
      return rows.length === 1
    },

    async listUserSessions(userId) {
      const rows = await db.query('SELECT * FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id', [userId])
      return rows.map(toSession)
    },

    async deleteSession(id) {
      return (await db.query('DELETE FROM sessions WHERE id = $1 RETURNING id', [id])).length === 1
    },

    async deleteUserSession(userId, id) {
      const rows = await db.query('DELETE FROM sessions WHERE user_id = $1 AND id = $2 RETURNING id', [userId, id])
      return rows.length === 1
    },

    async deleteUserSessions(userId, exceptId) {
      const rows = await db.query(
        'DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2 RETURNING id',
        [userId, exceptId],
      )
      return rows.map((row) => String(row.id))
    },

    async deleteExpiredSessions(idleCutoff, now) {
      const rows = await db.query(
        'DELETE FROM sessions WHERE last_seen_at < $1 OR absolute_expires_at <= $2 RETURNING id',
        [idleCutoff, now],
      )
      return rows.length
    },

    async listRecentSessions(seenSince, now, limit) {
      const rows = await db.query(
        `SELECT * FROM sessions WHERE last_seen_at >= $1 AND absolute_expires_at > $2
         ORDER BY last_seen_at DESC, id LIMIT $3`,
        [seenSince, now, limit],
      )
      return rows.map(toSession)
    },

    async countActiveSessions(idleCutoff, now) {
      const [row] = await db.query(
        'SELECT count(*) AS active FROM sessions WHERE last_seen_at > $1 AND absolute_expires_at > $2',
        [idleCutoff, now],
      )
      return Number(row?.active ?? 0)
    },
  }
}

import type { SessionRecord, SessionStore } from '../../core/sessions/store.ts'
import type { Database, Row } from './database.ts'

function toSession(row: Row): SessionRecord {
  const optional = (value: unknown): string | null => (value === null ? null : String(value))
  return {
    id: String(row.id),
    tokenHash: optional(row.token_hash),
    userId: String(row.user_id),
    transport: row.transport === 'cookie' ? 'cookie' : 'token',
    refreshTokenHash: optional(row.refresh_token_hash),
    previousRefreshTokenHash: optional(row.previous_refresh_token_hash),
    createdAt: row.created_at as Date,
    lastSeenAt: row.last_seen_at as Date,
    absoluteExpiresAt: row.absolute_expires_at as Date,
    ip: String(row.ip),
    userAgent: String(row.user_agent),
  }
}

export function createPostgresSessionStore(db: Database): SessionStore {
  async function findOne(column: 'id' | 'token_hash' | 'previous_refresh_token_hash', value: string) {
    const [row] = await db.query(`SELECT * FROM sessions WHERE ${column} = $1`, [value])
    return row ? toSession(row) : null
  }

  return {
    async insertSession(session) {
      await db.query(
        `INSERT INTO sessions (id, token_hash, user_id, transport, refresh_token_hash,
           previous_refresh_token_hash, created_at, last_seen_at, absolute_expires_at, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          session.id,
          session.tokenHash,
          session.userId,
          session.transport,
          session.refreshTokenHash,
          session.previousRefreshTokenHash,
          session.createdAt,
          session.lastSeenAt,
          session.absoluteExpiresAt,
          session.ip,
          session.userAgent,
        ],
      )
    },

    findSessionById: (id) => findOne('id', id),

    findSessionByTokenHash: (tokenHash) => findOne('token_hash', tokenHash),

    async touchSession(id, lastSeenAt) {
      await db.query('UPDATE sessions SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1', [id, lastSeenAt])
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

    async rotateRefreshToken(presentedHash, nextHash, now) {
      // One statement: the row lock taken by FOR UPDATE makes a concurrent presenter of the same
      // token wait, then find that the token is no longer current (and fall through to reuse).
      const [rotated] = await db.query(
        `WITH current AS (
           SELECT * FROM sessions WHERE refresh_token_hash = $1 FOR UPDATE
         )
         UPDATE sessions s
            SET previous_refresh_token_hash = s.refresh_token_hash,
                refresh_token_hash = $2,
                last_seen_at = greatest(s.last_seen_at, $3)
           FROM current
          WHERE s.id = current.id
         RETURNING current.*`,
        [presentedHash, nextHash, now],
      )
      if (rotated) return { outcome: 'rotated', session: toSession(rotated) }
      const previous = await findOne('previous_refresh_token_hash', presentedHash)
      return previous ? { outcome: 'reused', session: previous } : { outcome: 'missing' }
    },

    async deleteExpiredSessions(idleCutoff, now) {
      const rows = await db.query(
        'DELETE FROM sessions WHERE last_seen_at < $1 OR absolute_expires_at <= $2 RETURNING id',
        [idleCutoff, now],
      )
      return rows.length
    },
  }
}

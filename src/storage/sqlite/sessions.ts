import type { DatabaseSync } from 'node:sqlite'
import type { SessionRecord, SessionStore } from '../../core/sessions/store.ts'

function toSession(row: Record<string, unknown>): SessionRecord {
  const optional = (value: unknown): string | null => (value === null ? null : String(value))
  return {
    id: String(row.id),
    tokenHash: optional(row.token_hash),
    userId: String(row.user_id),
    transport: row.transport === 'cookie' ? 'cookie' : 'token',
    refreshTokenHash: optional(row.refresh_token_hash),
    previousRefreshTokenHash: optional(row.previous_refresh_token_hash),
    createdAt: new Date(Number(row.created_at)),
    lastSeenAt: new Date(Number(row.last_seen_at)),
    absoluteExpiresAt: new Date(Number(row.absolute_expires_at)),
    ip: String(row.ip),
    userAgent: String(row.user_agent),
  }
}

export function createSqliteSessionStore(db: DatabaseSync): SessionStore {
  const insert = db.prepare(`INSERT INTO sessions
    (id, token_hash, user_id, transport, refresh_token_hash, previous_refresh_token_hash,
     created_at, last_seen_at, absolute_expires_at, ip, user_agent)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const findById = db.prepare('SELECT * FROM sessions WHERE id = ?')
  const findByTokenHash = db.prepare('SELECT * FROM sessions WHERE token_hash = ?')
  const findByRefreshHash = db.prepare('SELECT * FROM sessions WHERE refresh_token_hash = ?')
  const findByPreviousRefreshHash = db.prepare('SELECT * FROM sessions WHERE previous_refresh_token_hash = ?')
  const touch = db.prepare('UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE id = ?')
  const rotate = db.prepare(`UPDATE sessions
    SET previous_refresh_token_hash = refresh_token_hash, refresh_token_hash = ?,
        last_seen_at = max(last_seen_at, ?)
    WHERE id = ? AND refresh_token_hash = ?`)
  const listByUser = db.prepare('SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id')
  const deleteById = db.prepare('DELETE FROM sessions WHERE id = ?')
  const deleteOfUser = db.prepare('DELETE FROM sessions WHERE user_id = ? AND id = ?')
  const deleteAllOfUser = db.prepare('DELETE FROM sessions WHERE user_id = ? AND id IS NOT ? RETURNING id')
  const deleteExpired = db.prepare(
    'DELETE FROM sessions WHERE last_seen_at < ? OR absolute_expires_at <= ?',
  )
  const countActive = db.prepare(
    'SELECT count(*) AS active FROM sessions WHERE last_seen_at > ? AND absolute_expires_at > ?',
  )

  return {
    async insertSession(session) {
      insert.run(
        session.id,
        session.tokenHash,
        session.userId,
        session.transport,
        session.refreshTokenHash,
        session.previousRefreshTokenHash,
        session.createdAt.getTime(),
        session.lastSeenAt.getTime(),
        session.absoluteExpiresAt.getTime(),
        session.ip,
        session.userAgent,
      )
    },

    async findSessionById(id) {
      const row = findById.get(id)
      return row ? toSession(row) : null
    },

    async findSessionByTokenHash(tokenHash) {
      const row = findByTokenHash.get(tokenHash)
      return row ? toSession(row) : null
    },

    async touchSession(id, lastSeenAt) {
      touch.run(lastSeenAt.getTime(), id)
    },

    async listUserSessions(userId) {
      return listByUser.all(userId).map(toSession)
    },

    async deleteSession(id) {
      return Number(deleteById.run(id).changes) === 1
    },

    async deleteUserSession(userId, id) {
      return Number(deleteOfUser.run(userId, id).changes) === 1
    },

    async deleteUserSessions(userId, exceptId) {
      return deleteAllOfUser.all(userId, exceptId).map((row) => String(row.id))
    },

    async rotateRefreshToken(presentedHash, nextHash, now) {
      // node:sqlite is synchronous, so nothing else in this process runs between the read and
      // the conditional update; the `refresh_token_hash = ?` guard covers other processes.
      const current = findByRefreshHash.get(presentedHash)
      if (current) {
        const session = toSession(current)
        const changed = Number(rotate.run(nextHash, now.getTime(), session.id, presentedHash).changes)
        return changed === 1 ? { outcome: 'rotated', session } : { outcome: 'missing' }
      }
      const previous = findByPreviousRefreshHash.get(presentedHash)
      return previous ? { outcome: 'reused', session: toSession(previous) } : { outcome: 'missing' }
    },

    async deleteExpiredSessions(idleCutoff, now) {
      return Number(deleteExpired.run(idleCutoff.getTime(), now.getTime()).changes)
    },

    async countActiveSessions(idleCutoff, now) {
      return Number(countActive.get(idleCutoff.getTime(), now.getTime())?.active ?? 0)
    },
  }
}

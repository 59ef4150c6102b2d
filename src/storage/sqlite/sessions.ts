import type { DatabaseSync } from 'node:sqlite'
import type { SessionRecord, SessionStore } from '../../core/sessions/store.ts'

export function toSession(row: Record<string, unknown>): SessionRecord {
  return {
    id: String(row.id),
    tokenHash: row.token_hash === null ? null : String(row.token_hash),
    userId: String(row.user_id),
    userEpoch: Number(row.user_epoch),
    transport: row.transport === 'cookie' ? 'cookie' : 'token',
    createdAt: new Date(Number(row.created_at)),
    lastSeenAt: new Date(Number(row.last_seen_at)),
    absoluteExpiresAt: new Date(Number(row.absolute_expires_at)),
    ip: String(row.ip),
    userAgent: String(row.user_agent),
  }
}

export function createSqliteSessionStore(db: DatabaseSync): SessionStore {
  const insert = db.prepare(`INSERT INTO sessions
    (id, token_hash, user_id, user_epoch, transport, created_at, last_seen_at, absolute_expires_at, ip, user_agent)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const findById = db.prepare('SELECT * FROM sessions WHERE id = ?')
  const findByTokenHash = db.prepare('SELECT * FROM sessions WHERE token_hash = ?')
  const touch = db.prepare('UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE id = ?')
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
        session.userEpoch,
        session.transport,
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

    async deleteExpiredSessions(idleCutoff, now) {
      return Number(deleteExpired.run(idleCutoff.getTime(), now.getTime()).changes)
    },

    async countActiveSessions(idleCutoff, now) {
      return Number(countActive.get(idleCutoff.getTime(), now.getTime())?.active ?? 0)
    },
  }
}

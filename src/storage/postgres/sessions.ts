import type { SessionRecord, SessionStore } from '../../core/sessions/store.ts'
import { createStoreUnavailableError } from '../store-unavailable.ts'
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
    ...(row.ended_notice === 'signed_in_elsewhere' ? { endedNotice: 'signed_in_elsewhere' as const } : {}),
    ...(typeof row.device_id === 'string' ? { deviceId: row.device_id } : {}),
  }
}

/** How long a sign-in tries for its turn under the session limit before answering 503. */
const limitLockWaitMs = 10_000

export function createPostgresSessionStore(db: SqlSession): SessionStore {
  async function findOne(column: 'id' | 'token_hash', value: string) {
    const [row] = await db.query(`SELECT * FROM sessions WHERE ${column} = $1`, [value])
    return row ? toSession(row) : null
  }

  async function insertRow(on: SqlSession, session: SessionRecord): Promise<void> {
    await on.query(
      `INSERT INTO sessions (id, token_hash, user_id, user_epoch, transport, created_at, last_seen_at,
         absolute_expires_at, ip, user_agent, authenticated_at, amr, ended_notice, device_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
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
        session.endedNotice ?? null,
        session.deviceId ?? null,
      ],
    )
  }

  return {
    insertSession: (session) => insertRow(db, session),

    async insertLimitedSession(session, limit, now) {
      const deadline = performance.now() + limitLockWaitMs
      for (let attempt = 0; ; attempt += 1) {
        const outcome = await db.transaction(async (tx) => {
          // Sign-ins of one user take turns on a lock of their own, released with the transaction
          // (a row lock cannot serve: the rows counted are the ones being inserted). Tried, not
          // waited for: a waiting transaction would hold a pooled connection, and sixty of them
          // would starve the very steps the holder needs to finish.
          const [lock] = await tx.query(
            "SELECT pg_try_advisory_xact_lock(hashtextextended('tessera session limit:' || $1, 0)) AS locked",
            [session.userId],
          )
          if (lock?.locked !== true) return null
          const held = await tx.query(
            `SELECT id FROM sessions WHERE user_id = $1 AND ended_notice IS NULL AND absolute_expires_at > $2
             ORDER BY created_at, id`,
            [session.userId, now],
          )
          if (held.length >= limit.maxSessions && limit.onFull === 'refuse') return { admitted: false as const }
          const ending = held.slice(0, Math.max(0, held.length - limit.maxSessions + 1)).map((row) => String(row.id))
          if (ending.length > 0) {
            await tx.query("UPDATE sessions SET ended_notice = 'signed_in_elsewhere' WHERE id = ANY($1)", [ending])
          }
          await insertRow(tx, session)
          return { admitted: true as const, endedSessionIds: ending }
        })
        if (outcome !== null) return outcome
        if (performance.now() > deadline) {
          throw createStoreUnavailableError(new Error('timed out waiting for the session limit lock'))
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)))
      }
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
      const rows = await db.query('DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2 RETURNING id', [
        userId,
        exceptId,
      ])
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

import type { DatabaseSync } from 'node:sqlite'
import type { SessionRecord, SessionStore } from '../../core/sessions/store.ts'
import type { TransactionGate } from './transaction-gate.ts'
import { runAtomically } from './transaction.ts'

/** Runs a step once no unit of work holds the connection (see transaction-gate.ts). */
type TakeTurn = TransactionGate['callInTurn']

/**
 * Expired sessions deleted by one statement of the sweep. node:sqlite runs on the event loop, so
 * one statement holds every request while it runs. Each deleted session changes some ten pages
 * (its row, five index entries, its refresh tokens and theirs, scattered by random ids): about
 * 60 µs at a million sessions, several times that on a busy two-core machine (measured there:
 * 2 ms of the loop's CPU for a batch of 32 at the median, 7–10 ms at the 99th percentile), so a
 * batch is kept to 16 to stay well within the 20 ms a request may wait for it.
 */
const sweepBatchSize = 16

/**
 * A long sweep writes without a pause, so the WAL never comes back to its start and grows until
 * the server's own connection checkpoints it, on the event loop (tens of milliseconds at a
 * million sessions). Every so many batches the sweep waits for a checkpoint instead, after which
 * its next write starts the WAL over: what it adds stays well below that threshold.
 */
const sweepBatchesBetweenCheckpoints = 32

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
    authenticatedAt: new Date(Number(row.authenticated_at)),
    amr: String(row.amr).split(' '),
    ...(row.ended_notice === 'signed_in_elsewhere' ? { endedNotice: 'signed_in_elsewhere' as const } : {}),
    ...(typeof row.device_id === 'string' ? { deviceId: row.device_id } : {}),
  }
}

/**
 * `checkpointWal`, when the WAL is checkpointed off the event loop (checkpointer.ts), lets the
 * sweep wait for a checkpoint between runs of batches.
 */
export function createSqliteSessionStore(
  db: DatabaseSync,
  takeTurn: TakeTurn,
  checkpointWal?: () => Promise<void>,
): SessionStore {
  const insert = db.prepare(`INSERT INTO sessions
    (id, token_hash, user_id, user_epoch, transport, created_at, last_seen_at, absolute_expires_at, ip, user_agent,
     authenticated_at, amr, ended_notice, device_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  // A session holds a place under the limit until it ends (marked, or deleted) or expires.
  const listHeldPlaces = db.prepare(`SELECT id FROM sessions
    WHERE user_id = ? AND ended_notice IS NULL AND absolute_expires_at > ? ORDER BY created_at, id`)
  const markEnded = db.prepare("UPDATE sessions SET ended_notice = 'signed_in_elsewhere' WHERE id = ?")
  const findById = db.prepare('SELECT * FROM sessions WHERE id = ?')
  const findByTokenHash = db.prepare('SELECT * FROM sessions WHERE token_hash = ?')
  const touch = db.prepare('UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE id = ?')
  const authenticate = db.prepare(
    'UPDATE sessions SET authenticated_at = ?, amr = ? WHERE id = ? AND authenticated_at <= ?',
  )
  const exists = db.prepare('SELECT 1 FROM sessions WHERE id = ?')
  const listByUser = db.prepare('SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id')
  const deleteById = db.prepare('DELETE FROM sessions WHERE id = ?')
  const deleteOfUser = db.prepare('DELETE FROM sessions WHERE user_id = ? AND id = ?')
  const deleteAllOfUser = db.prepare('DELETE FROM sessions WHERE user_id = ? AND id IS NOT ? RETURNING id')
  // Both read the expired sessions only, through their indexes, and the kept tally of stored
  // sessions (migration 005): never every row.
  const deleteExpiredBatch = db.prepare(`DELETE FROM sessions WHERE rowid IN (
    SELECT rowid FROM sessions WHERE last_seen_at < ? OR absolute_expires_at <= ? LIMIT ${sweepBatchSize})`)
  const listRecent = db.prepare(`SELECT * FROM sessions WHERE last_seen_at >= ? AND absolute_expires_at > ?
    ORDER BY last_seen_at DESC, id LIMIT ?`)
  const countActive = db.prepare(`SELECT (SELECT stored FROM session_tally WHERE id = 1)
    - (SELECT count(*) FROM sessions WHERE last_seen_at <= ? OR absolute_expires_at <= ?) AS active`)

  function insertRow(session: SessionRecord): void {
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
      session.authenticatedAt.getTime(),
      session.amr.join(' '),
      session.endedNotice ?? null,
      session.deviceId ?? null,
    )
  }

  return {
    async insertSession(session) {
      insertRow(session)
    },

    async insertLimitedSession(session, limit, now) {
      // One synchronous step on the one connection (the gate gives it its turn): no other
      // statement runs between the count and the insert, whatever the number of sign-ins.
      const held = listHeldPlaces.all(session.userId, now.getTime()).map((row) => String(row.id))
      if (held.length >= limit.maxSessions && limit.onFull === 'refuse') return { admitted: false }
      const ending = held.slice(0, Math.max(0, held.length - limit.maxSessions + 1))
      runAtomically(db, () => {
        for (const id of ending) markEnded.run(id)
        insertRow(session)
      })
      return { admitted: true, endedSessionIds: ending }
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

    async recordSessionAuthentication(id, authenticatedAt, amr) {
      const at = authenticatedAt.getTime()
      return Number(authenticate.run(at, amr.join(' '), id, at).changes) === 1 || exists.get(id) !== undefined
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
      // Batch by batch, the event loop free between them; each batch waits for its turn, so it
      // never lands inside (and rolls back with) a transaction another caller opened meanwhile.
      let deleted = 0
      for (let batches = 1; ; batches += 1) {
        const batch = await takeTurn(() => Number(deleteExpiredBatch.run(idleCutoff.getTime(), now.getTime()).changes))
        deleted += batch
        if (batch < sweepBatchSize) return deleted
        if (checkpointWal && batches % sweepBatchesBetweenCheckpoints === 0) await checkpointWal()
        else await new Promise((resolve) => setImmediate(resolve))
      }
    },

    async listRecentSessions(seenSince, now, limit) {
      return listRecent.all(seenSince.getTime(), now.getTime(), limit).map(toSession)
    },

    async countActiveSessions(idleCutoff, now) {
      return Number(countActive.get(idleCutoff.getTime(), now.getTime())?.active ?? 0)
    },
  }
}

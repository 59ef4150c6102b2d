/**
 * Throttle counters in SQLite. A record whose `expires_at` has passed counts as absent: every
 * statement checks it, so the sweep is only housekeeping. Multi-key writes run in one immediate
 * transaction, which also serialises them against other processes sharing the file.
 */
import type { DatabaseSync } from 'node:sqlite'
import type { ThrottleRecord, ThrottleStore } from '../../core/throttle/store.ts'
import { runAtomically } from './transaction.ts'

const isLive = '(expires_at IS NULL OR expires_at > ?2)'

function toMs(instant: Date | null): number | null {
  return instant === null ? null : instant.getTime()
}

export function createSqliteThrottleStore(db: DatabaseSync): ThrottleStore {
  const read = db.prepare(`SELECT count, blocked_until, expires_at FROM throttles WHERE key = ?1 AND ${isLive}`)
  // Expiry only moves later, NULL (never) being the latest; an expired record restarts from scratch.
  const increment = db.prepare(`INSERT INTO throttles (key, count, blocked_until, expires_at) VALUES (?1, 1, NULL, ?3)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN throttles.expires_at <= ?2 THEN 1 ELSE throttles.count + 1 END,
      blocked_until = CASE WHEN throttles.expires_at <= ?2 THEN NULL ELSE throttles.blocked_until END,
      expires_at = CASE
        WHEN throttles.expires_at <= ?2 THEN excluded.expires_at
        WHEN throttles.expires_at IS NULL OR excluded.expires_at IS NULL THEN NULL
        ELSE max(throttles.expires_at, excluded.expires_at) END
    RETURNING count`)
  const decrement = db.prepare(`UPDATE throttles SET count = max(count - 1, 0) WHERE key = ?1 AND ${isLive}`)
  const extendBlock = db.prepare(`UPDATE throttles SET
      blocked_until = max(coalesce(blocked_until, 0), ?3),
      expires_at = CASE WHEN expires_at IS NULL OR ?4 IS NULL THEN NULL ELSE max(expires_at, ?4) END
    WHERE key = ?1 AND ${isLive}`)
  const deleteOne = db.prepare('DELETE FROM throttles WHERE key = ?')
  const deleteByPrefix = db.prepare('DELETE FROM throttles WHERE key >= ?1 AND key < ?2 AND substr(key, 1, length(?1)) = ?1')
  const deleteExpired = db.prepare('DELETE FROM throttles WHERE expires_at <= ?')


  return {
    async readThrottles(keys, now) {
      return keys.map((key): ThrottleRecord | null => {
        const row = read.get(key, now.getTime())
        if (!row) return null
        return {
          count: Number(row.count),
          blockedUntil: row.blocked_until === null ? null : new Date(Number(row.blocked_until)),
          expiresAt: row.expires_at === null ? null : new Date(Number(row.expires_at)),
        }
      })
    },

    async incrementThrottles(increments, now) {
      return runAtomically(db, () =>
        increments.map(({ key, expiresAt }) => Number(increment.get(key, now.getTime(), toMs(expiresAt))?.count)),
      )
    },

    async decrementThrottles(keys, now) {
      runAtomically(db, () => {
        for (const key of keys) decrement.run(key, now.getTime())
      })
    },

    async extendThrottleBlocks(blocks, now) {
      runAtomically(db, () => {
        for (const { key, blockedUntil, expiresAt } of blocks) {
          extendBlock.run(key, now.getTime(), blockedUntil.getTime(), toMs(expiresAt))
        }
      })
    },

    async deleteThrottles(keys) {
      return runAtomically(db, () => keys.reduce((total, key) => total + Number(deleteOne.run(key).changes), 0))
    },

    async deleteThrottlesByPrefix(prefix) {
      return Number(deleteByPrefix.run(prefix, `${prefix}\u{10FFFF}`).changes)
    },

    async deleteExpiredThrottles(now) {
      return Number(deleteExpired.run(now.getTime()).changes)
    },
  }
}

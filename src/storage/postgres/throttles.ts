/**
 * Throttle counters in PostgreSQL, shared by every node. A record whose `expires_at` has passed
 * counts as absent: every statement checks it, so the sweep is only housekeeping. Multi-key
 * writes run in one transaction and touch keys in sorted order, so two of them cannot deadlock.
 */
import type { ThrottleRecord, ThrottleStore } from '../../core/throttle/store.ts'
import type { SqlSession } from './database.ts'

const isLive = '(expires_at IS NULL OR expires_at > $2::timestamptz)'

/** Indexes of `keys` in key order: the order rows are locked in. */
function lockOrder(keys: readonly string[]): number[] {
  return keys.map((_, index) => index).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b))
}

export function createPostgresThrottleStore(db: SqlSession): ThrottleStore {
  return {
    async readThrottles(keys, now) {
      const rows = await db.query(
        `SELECT key, count, blocked_until, expires_at FROM throttles WHERE key = ANY($1::text[]) AND ${isLive}`,
        [keys, now],
      )
      const byKey = new Map(rows.map((row) => [String(row.key), row]))
      return keys.map((key): ThrottleRecord | null => {
        const row = byKey.get(key)
        if (!row) return null
        return {
          count: Number(row.count),
          blockedUntil: row.blocked_until instanceof Date ? row.blocked_until : null,
          expiresAt: row.expires_at instanceof Date ? row.expires_at : null,
        }
      })
    },

    incrementThrottles(increments, now) {
      return db.transaction(async (tx) => {
        const counts: number[] = new Array<number>(increments.length).fill(0)
        for (const index of lockOrder(increments.map(({ key }) => key))) {
          const { key, expiresAt } = increments[index]!
          // Expiry only moves later, NULL (never) being the latest; an expired record restarts.
          const [row] = await tx.query(
            `INSERT INTO throttles (key, count, blocked_until, expires_at) VALUES ($1, 1, NULL, $3::timestamptz)
             ON CONFLICT (key) DO UPDATE SET
               count = CASE WHEN throttles.expires_at <= $2::timestamptz THEN 1 ELSE throttles.count + 1 END,
               blocked_until = CASE WHEN throttles.expires_at <= $2::timestamptz THEN NULL ELSE throttles.blocked_until END,
               expires_at = CASE
                 WHEN throttles.expires_at <= $2::timestamptz THEN excluded.expires_at
                 WHEN throttles.expires_at IS NULL OR excluded.expires_at IS NULL THEN NULL
                 ELSE greatest(throttles.expires_at, excluded.expires_at) END
             RETURNING count`,
            [key, now, expiresAt],
          )
          counts[index] = Number(row?.count)
        }
        return counts
      })
    },

    async decrementThrottles(keys, now) {
      await db.transaction(async (tx) => {
        for (const index of lockOrder(keys)) {
          await tx.query(`UPDATE throttles SET count = greatest(count - 1, 0) WHERE key = $1 AND ${isLive}`, [keys[index], now])
        }
      })
    },

    async extendThrottleBlocks(blocks, now) {
      await db.transaction(async (tx) => {
        for (const index of lockOrder(blocks.map(({ key }) => key))) {
          const { key, blockedUntil, expiresAt } = blocks[index]!
          await tx.query(
            `UPDATE throttles SET
               blocked_until = greatest(blocked_until, $3::timestamptz),
               expires_at = CASE WHEN expires_at IS NULL OR $4::timestamptz IS NULL THEN NULL ELSE greatest(expires_at, $4::timestamptz) END
             WHERE key = $1 AND ${isLive}`,
            [key, now, blockedUntil, expiresAt],
          )
        }
      })
    },

    async deleteThrottles(keys) {
      return (await db.query('DELETE FROM throttles WHERE key = ANY($1::text[]) RETURNING key', [keys])).length
    },

    async deleteThrottlesByPrefix(prefix) {
      const rows = await db.query('DELETE FROM throttles WHERE left(key, length($1)) = $1 RETURNING key', [prefix])
      return rows.length
    },

    async deleteExpiredThrottles(now) {
      return (await db.query('DELETE FROM throttles WHERE expires_at <= $1 RETURNING key', [now])).length
    },
  }
}

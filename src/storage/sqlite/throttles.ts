/**
 * Throttle counters in SQLite. A record whose `expires_at` has passed counts as absent: every
 * statement checks it, so the sweep is only housekeeping. Multi-key writes run in one immediate
 * transaction, which also serialises them against other processes sharing the file; a charge
 * reads, decides and writes inside one, so it is atomic for every node on the file.
 */
import type { DatabaseSync } from 'node:sqlite'
import { decideCharge, type ChargedRecord } from '../../core/throttle/charge.ts'
import type { ThrottleStore } from '../../core/throttle/store.ts'
import { runAtomically } from './transaction.ts'

const isLive = '(expires_at IS NULL OR expires_at > ?2)'

function toMs(instant: Date | null): number | null {
  return instant === null ? null : instant.getTime()
}

function toInstant(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(Number(value))
}

export function createSqliteThrottleStore(db: DatabaseSync): ThrottleStore {
  const read = db.prepare(
    `SELECT count, blocked_until, expires_at, pending, settles_by FROM throttles WHERE key = ?1 AND ${isLive}`,
  )
  // Expiry only moves later, NULL (never) being the latest; an expired record restarts from scratch.
  const increment = db.prepare(`INSERT INTO throttles (key, count, blocked_until, expires_at) VALUES (?1, 1, NULL, ?3)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN throttles.expires_at <= ?2 THEN 1 ELSE throttles.count + 1 END,
      blocked_until = CASE WHEN throttles.expires_at <= ?2 THEN NULL ELSE throttles.blocked_until END,
      pending = CASE WHEN throttles.expires_at <= ?2 THEN 0 ELSE throttles.pending END,
      settles_by = CASE WHEN throttles.expires_at <= ?2 THEN NULL ELSE throttles.settles_by END,
      expires_at = CASE
        WHEN throttles.expires_at <= ?2 THEN excluded.expires_at
        WHEN throttles.expires_at IS NULL OR excluded.expires_at IS NULL THEN NULL
        ELSE max(throttles.expires_at, excluded.expires_at) END
    RETURNING count`)
  const write =
    db.prepare(`INSERT INTO throttles (key, count, blocked_until, expires_at, pending, settles_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (key) DO UPDATE SET count = excluded.count, blocked_until = excluded.blocked_until,
      expires_at = excluded.expires_at, pending = excluded.pending, settles_by = excluded.settles_by`)
  const settleFailure = db.prepare(`UPDATE throttles SET
      pending = max(pending - 1, 0),
      blocked_until = CASE WHEN ?3 IS NULL THEN blocked_until ELSE max(coalesce(blocked_until, 0), ?3) END,
      expires_at = CASE WHEN expires_at IS NULL OR ?4 IS NULL THEN NULL ELSE max(expires_at, ?4) END
    WHERE key = ?1 AND ${isLive}`)
  const refund = db.prepare(
    `UPDATE throttles SET count = max(count - 1, 0), pending = max(pending - 1, 0) WHERE key = ?1 AND ${isLive}`,
  )
  const deleteOne = db.prepare('DELETE FROM throttles WHERE key = ?')
  const deleteByPrefix = db.prepare(
    'DELETE FROM throttles WHERE key >= ?1 AND key < ?2 AND substr(key, 1, length(?1)) = ?1',
  )
  const deleteExpired = db.prepare('DELETE FROM throttles WHERE expires_at <= ?')

  function readRecord(key: string, now: Date): ChargedRecord | null {
    const row = read.get(key, now.getTime())
    if (!row) return null
    return {
      count: Number(row.count),
      blockedUntil: toInstant(row.blocked_until),
      expiresAt: toInstant(row.expires_at),
      pending: Number(row.pending),
      settlesBy: toInstant(row.settles_by),
    }
  }

  return {
    async readThrottles(keys, now) {
      return keys.map((key) => {
        const record = readRecord(key, now)
        return record && { count: record.count, blockedUntil: record.blockedUntil, expiresAt: record.expiresAt }
      })
    },

    async chargeThrottles(charges, now) {
      return runAtomically(db, () => {
        const { admission, writes } = decideCharge(
          charges,
          charges.map(({ key }) => readRecord(key, now)),
          now,
        )
        for (const { key, record } of writes) {
          write.run(
            key,
            record.count,
            toMs(record.blockedUntil),
            toMs(record.expiresAt),
            record.pending,
            toMs(record.settlesBy),
          )
        }
        return admission
      })
    },

    async settleThrottleFailures(settlements, now) {
      runAtomically(db, () => {
        for (const { key, blockedUntil, expiresAt } of settlements) {
          settleFailure.run(key, now.getTime(), toMs(blockedUntil), toMs(expiresAt))
        }
      })
    },

    async refundThrottles(keys, now) {
      runAtomically(db, () => {
        for (const key of keys) refund.run(key, now.getTime())
      })
    },

    async incrementThrottles(increments, now) {
      return runAtomically(db, () =>
        increments.map(({ key, expiresAt }) => Number(increment.get(key, now.getTime(), toMs(expiresAt))?.count)),
      )
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

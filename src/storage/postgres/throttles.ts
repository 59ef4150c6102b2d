/**
 * Throttle counters in PostgreSQL, shared by every node. A record whose `expires_at` has passed
 * counts as absent: every statement checks it, so the sweep is only housekeeping. Multi-key
 * writes run in one transaction and touch keys in sorted order, so two of them cannot deadlock.
 * A charge locks its rows first (creating an expired placeholder for a key without one, so that
 * an absent key is locked too), then decides on what it locked and writes the outcome in the same
 * transaction: concurrent charges of one key queue on its row lock, each seeing the one before.
 */
import { decideCharge, type ChargedRecord } from '../../core/throttle/charge.ts'
import type { ThrottleRecord, ThrottleStore } from '../../core/throttle/store.ts'
import type { Queryable, Row, SqlSession } from './database.ts'

const isLive = '(expires_at IS NULL OR expires_at > $2::timestamptz)'

/** Indexes of `keys` in key order: the order rows are locked in. */
function lockOrder(keys: readonly string[]): number[] {
  return keys.map((_, index) => index).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b))
}

function toInstant(value: unknown): Date | null {
  return value instanceof Date ? value : null
}

function toRecord(row: Row): ThrottleRecord {
  return { count: Number(row.count), blockedUntil: toInstant(row.blocked_until), expiresAt: toInstant(row.expires_at) }
}

function toChargedRecord(row: Row): ChargedRecord {
  return { ...toRecord(row), pending: Number(row.pending), settlesBy: toInstant(row.settles_by) }
}

export function createPostgresThrottleStore(db: SqlSession): ThrottleStore {
  /** Runs `statement` once per item, in key order: alone, or in one transaction for several. */
  async function updateEach<T extends { key: string }>(
    items: readonly T[],
    statement: (queryable: Queryable, item: T) => Promise<unknown>,
  ) {
    const [only] = items
    if (items.length === 1 && only) {
      await statement(db, only)
      return
    }
    await db.transaction(async (tx) => {
      for (const index of lockOrder(items.map(({ key }) => key))) await statement(tx, items[index]!)
    })
  }

  return {
    async readThrottles(keys, now) {
      const rows = await db.query(
        `SELECT key, count, blocked_until, expires_at FROM throttles WHERE key = ANY($1::text[]) AND ${isLive}`,
        [keys, now],
      )
      const byKey = new Map(rows.map((row) => [String(row.key), row]))
      return keys.map((key): ThrottleRecord | null => {
        const row = byKey.get(key)
        return row ? toRecord(row) : null
      })
    },

    chargeThrottles(charges, now) {
      const keys = lockOrder(charges.map(({ key }) => key)).map((index) => charges[index]!.key)
      return db.transaction(async (tx) => {
        // The no-op update locks an existing row and returns its latest committed state; a key
        // without a row gets a placeholder that is already expired, so it reads as absent.
        const locked = await tx.query(
          `INSERT INTO throttles (key, count, blocked_until, expires_at)
             SELECT key, 0, NULL, $2::timestamptz FROM unnest($1::text[]) WITH ORDINALITY AS input(key, position) ORDER BY position
           ON CONFLICT (key) DO UPDATE SET count = throttles.count
           RETURNING key, count, blocked_until, expires_at, pending, settles_by, (xmax = 0) AS is_placeholder`,
          [keys, now],
        )
        const byKey = new Map(locked.map((row) => [String(row.key), row]))
        const records = charges.map(({ key }) => {
          const row = byKey.get(key)
          const record = row ? toChargedRecord(row) : null
          return record && (record.expiresAt === null || record.expiresAt > now) ? record : null
        })
        const { admission, writes } = decideCharge(charges, records, now)
        // A refused attempt leaves no record behind: its placeholders go.
        const placeholders =
          admission.outcome === 'admitted'
            ? []
            : locked.filter((row) => row.is_placeholder === true).map((row) => String(row.key))
        if (writes.length > 0 || placeholders.length > 0) {
          await tx.query(
            `WITH dropped AS (DELETE FROM throttles WHERE key = ANY($7::text[]))
             UPDATE throttles SET count = input.count, blocked_until = input.blocked_until, expires_at = input.expires_at,
                 pending = input.pending, settles_by = input.settles_by
               FROM unnest($1::text[], $2::integer[], $3::timestamptz[], $4::timestamptz[], $5::integer[], $6::timestamptz[])
                 AS input(key, count, blocked_until, expires_at, pending, settles_by)
               WHERE throttles.key = input.key`,
            [
              writes.map(({ key }) => key),
              writes.map(({ record }) => record.count),
              writes.map(({ record }) => record.blockedUntil),
              writes.map(({ record }) => record.expiresAt),
              writes.map(({ record }) => record.pending),
              writes.map(({ record }) => record.settlesBy),
              placeholders,
            ],
          )
        }
        return admission
      })
    },

    async settleThrottleFailures(settlements, now) {
      await updateEach(settlements, (queryable, { key, blockedUntil, expiresAt }) =>
        queryable.query(
          `UPDATE throttles SET
             pending = greatest(pending - 1, 0),
             blocked_until = CASE WHEN $3::timestamptz IS NULL THEN blocked_until ELSE greatest(blocked_until, $3::timestamptz) END,
             expires_at = CASE WHEN expires_at IS NULL OR $4::timestamptz IS NULL THEN NULL ELSE greatest(expires_at, $4::timestamptz) END
           WHERE key = $1 AND ${isLive}`,
          [key, now, blockedUntil, expiresAt],
        ),
      )
    },

    async refundThrottles(keys, now) {
      await updateEach(
        keys.map((key) => ({ key })),
        (queryable, { key }) =>
          queryable.query(
            `UPDATE throttles SET count = greatest(count - 1, 0), pending = greatest(pending - 1, 0) WHERE key = $1 AND ${isLive}`,
            [key, now],
          ),
      )
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
               pending = CASE WHEN throttles.expires_at <= $2::timestamptz THEN 0 ELSE throttles.pending END,
               settles_by = CASE WHEN throttles.expires_at <= $2::timestamptz THEN NULL ELSE throttles.settles_by END,
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

    async deleteThrottles(keys) {
      // Rows locked in the order incrementThrottles locks them (lockOrder): a plain DELETE … ANY
      // locks them in scan order, and parallel sign-ins of one user deadlocked against each other.
      const rows = await db.query(
        `DELETE FROM throttles WHERE key IN (
           SELECT key FROM throttles WHERE key = ANY($1::text[]) ORDER BY key COLLATE "C" FOR UPDATE)
         RETURNING key`,
        [keys],
      )
      return rows.length
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

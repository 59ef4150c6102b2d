/**
 * The throttle store: small counters with a block instant and an expiry, shared by every node.
 * Admission is one method, `chargeThrottles`, that checks the blocks of an attempt and counts it
 * in one atomic step where the counters are kept (a transaction in SQL, Lua scripts in Redis), so
 * the Nth of N simultaneous attempts sees the N-1 before it; each record also knows how many of
 * its attempts are still in flight. The other methods are one round-trip each and atomic per key.
 * Instants only ever move later (`blockedUntil`, `expiresAt`), which keeps concurrent writers
 * from undoing each other without any read-modify-write in the core.
 */

/** A counter as the store holds it. */
export interface ThrottleRecord {
  count: number
  /** Attempts on this key are refused before this instant; null when not blocked. */
  blockedUntil: Date | null
  /** The record is forgotten at this instant; null keeps it until it is deleted. */
  expiresAt: Date | null
}

export interface ThrottleIncrement {
  key: string
  /** The record expires at the later of this and its current expiry; null never expires. */
  expiresAt: Date | null
}

/** The end of one attempt in flight as a failure. */
export interface ThrottleSettlement extends ThrottleIncrement {
  /** The key's block moves to the later of its own and this; null leaves it as it is. */
  blockedUntil: Date | null
}

/**
 * How a counter blocks: the attempt that brings it to `threshold`, and each one after it, blocks
 * its key for twice as long as the one before, from `baseDelaySeconds` up to `maxDelaySeconds`.
 */
export interface ThrottleRule {
  threshold: number
  baseDelaySeconds: number
  maxDelaySeconds: number
}

/** One counter an attempt is charged to. */
export interface ThrottleCharge extends ThrottleIncrement {
  rule: ThrottleRule
  /** A block on this key refuses the attempt; when false the key counts it but never refuses it for a block. */
  isEnforced: boolean
  /** The attempt is refused while the key's count is at or above this; null for no cap. */
  cap: number | null
  /**
   * Null: the attempt is final at once, a failure whose wait starts now (a registration). An
   * instant: the attempt stays in flight until `settleThrottleFailures` or `refundThrottles`
   * ends it, or until this instant, after which it is taken for failed (its node is gone).
   */
  settlesBy: Date | null
}

/**
 * What `chargeThrottles` decided: admitted, with the new count of each key; refused by a cap
 * (`capped`) or by a block in force (`blocked`, until the latest such block); or held back
 * (`busy`) only by attempts still in flight that would block it if they failed: ask again once
 * they have settled.
 */
export type ThrottleAdmission =
  | { outcome: 'admitted'; counts: number[] }
  | { outcome: 'capped' }
  | { outcome: 'blocked'; blockedUntil: Date }
  | { outcome: 'busy' }

export interface ThrottleStore {
  /** The live records of `keys` at `now`, in order; null where a key has none or it expired. */
  readThrottles(keys: readonly string[], now: Date): Promise<Array<ThrottleRecord | null>>
  /**
   * Adds one to each counter (an absent or expired record starts again from zero, unblocked)
   * and returns the new counts in order.
   */
  incrementThrottles(increments: readonly ThrottleIncrement[], now: Date): Promise<number[]>
  /**
   * Decides one attempt, atomically with every other call on the same keys, exactly as if the
   * attempts had come one after another, each after the one before had ended. An attempt in
   * flight counts as a failure until it settles. Per key, in this order:
   *
   * - a cap reached by the count refuses the attempt (`capped`), or holds it back (`busy`)
   *   while some of that count is still in flight;
   * - an enforced key blocked at `now` refuses it (`blocked`), and its wait restarts (the wait
   *   its count gives, from `now`, when that ends later), so hammering a blocked key keeps it
   *   blocked;
   * - an enforced key whose count has reached its threshold while attempts are in flight holds
   *   it back (`busy`): any of them failing would block it;
   * - otherwise the key counts it (an absent or expired record starts again from zero), in
   *   flight until it settles, or, for a final attempt, blocked at once from its threshold on.
   *
   * The attempt is `capped` if any key says so, else `blocked`, else `busy`, else admitted.
   * Unless admitted, it is counted nowhere. The keys are distinct.
   */
  chargeThrottles(charges: readonly ThrottleCharge[], now: Date): Promise<ThrottleAdmission>
  /**
   * Ends one attempt in flight on each key as a failure: it stays counted; the block and the
   * expiry move as the settlement says (never earlier). Absent or expired records stay absent.
   */
  settleThrottleFailures(settlements: readonly ThrottleSettlement[], now: Date): Promise<void>
  /**
   * Ends one attempt in flight on each key as no failure (a success, or nothing was verified):
   * one off its count, never below zero. Absent or expired records stay absent.
   */
  refundThrottles(keys: readonly string[], now: Date): Promise<void>
  /** Deletes these records; returns how many existed. */
  deleteThrottles(keys: readonly string[]): Promise<number>
  /** Deletes every record whose key starts with `prefix` (a rare, administrative operation). */
  deleteThrottlesByPrefix(prefix: string): Promise<number>
  /**
   * Deletes records expired at `now`; returns how many. A backend whose records expire by
   * themselves (Redis TTLs) has none left to delete and returns 0.
   */
  deleteExpiredThrottles(now: Date): Promise<number>
}

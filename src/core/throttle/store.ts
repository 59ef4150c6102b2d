/**
 * The throttle store: small counters with a block instant and an expiry, shared by every node.
 * Each method is one round-trip and atomic per key, so a backend can implement it with its own
 * primitive: a transaction or `UPDATE … RETURNING` in SQL, `HINCRBY` + `PEXPIREAT` in a Lua
 * script in Redis. Instants only ever move later (`blockedUntil`, `expiresAt`), which keeps
 * concurrent writers from undoing each other without any read-modify-write in the core.
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

export interface ThrottleBlock extends ThrottleIncrement {
  blockedUntil: Date
}

export interface ThrottleStore {
  /** The live records of `keys` at `now`, in order; null where a key has none or it expired. */
  readThrottles(keys: readonly string[], now: Date): Promise<Array<ThrottleRecord | null>>
  /**
   * Adds one to each counter (an absent or expired record starts again from zero, unblocked)
   * and returns the new counts in order.
   */
  incrementThrottles(increments: readonly ThrottleIncrement[], now: Date): Promise<number[]>
  /** Takes one from each live counter, never below zero (an attempt that was not made after all). */
  decrementThrottles(keys: readonly string[], now: Date): Promise<void>
  /**
   * Raises each live record's block to the later of its own and `blockedUntil`, and its expiry as
   * `incrementThrottles` does; absent or expired records are left absent.
   */
  extendThrottleBlocks(blocks: readonly ThrottleBlock[], now: Date): Promise<void>
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

/**
 * Exponential back-off: a key may be used `threshold` times freely; the attempt that reaches the
 * threshold, and each one after it, blocks the key for twice as long as the one before, from
 * `baseDelaySeconds` up to `maxDelaySeconds`. A key is forgotten `forgetAfterSeconds` after its
 * last counted attempt.
 */
import { TesseraError } from '../errors.ts'
import type { ThrottleBlock, ThrottleRecord } from './store.ts'

export interface BackoffRule {
  threshold: number
  baseDelaySeconds: number
  maxDelaySeconds: number
  forgetAfterSeconds: number
}

/** How long the `count`-th attempt blocks its key; 0 below the threshold. */
export function computeBlockSeconds(count: number, rule: BackoffRule): number {
  if (count < rule.threshold) return 0
  const doublings = Math.min(count - rule.threshold, 40)
  return Math.min(rule.maxDelaySeconds, rule.baseDelaySeconds * 2 ** doublings)
}

export function addSeconds(instant: Date, seconds: number): Date {
  return new Date(instant.getTime() + seconds * 1000)
}

/** The whole seconds a client must wait until `until`, at least 1 (the Retry-After value). */
export function secondsUntil(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000))
}

/** The latest of the blocks still in force at `now`, or null. */
export function latestBlock(blocks: ReadonlyArray<Date | null | undefined>, now: Date): Date | null {
  let latest: Date | null = null
  for (const block of blocks) {
    if (block && block > now && (latest === null || block > latest)) latest = block
  }
  return latest
}

export interface BlockCandidate {
  key: string
  record: ThrottleRecord | null
  rule: BackoffRule
}

/**
 * The blocks in force at `now`, each pushed out to a full wait of its current length: hammering a
 * blocked key keeps it blocked, and the Retry-After a client sees never shrinks while it does.
 * `until` is the latest of them, or null when nothing blocks.
 */
export function renewBlocks(candidates: readonly BlockCandidate[], now: Date): { blocks: ThrottleBlock[]; until: Date | null } {
  const blocks: ThrottleBlock[] = []
  for (const { key, record, rule } of candidates) {
    if (!record?.blockedUntil || record.blockedUntil <= now) continue
    const renewed = addSeconds(now, computeBlockSeconds(record.count, rule))
    const blockedUntil = renewed > record.blockedUntil ? renewed : record.blockedUntil
    const expiresAt = record.expiresAt === null || record.expiresAt > blockedUntil ? record.expiresAt : blockedUntil
    blocks.push({ key, blockedUntil, expiresAt })
  }
  return { blocks, until: latestBlock(blocks.map((block) => block.blockedUntil), now) }
}

/**
 * The refusal of a throttled attempt. It names no key and no count: an answer about an account
 * must read the same whether or not the account exists.
 */
export function createRateLimitedError(retryAfterSeconds: number): TesseraError {
  return new TesseraError('rate_limited', 'Too many attempts; wait before trying again.', {
    details: { retry_after: retryAfterSeconds },
  })
}

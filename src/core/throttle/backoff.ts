/**
 * Exponential back-off: a key may be used `threshold` times freely; the attempt that reaches the
 * threshold, and each one after it, blocks the key for twice as long as the one before, from
 * `baseDelaySeconds` up to `maxDelaySeconds`. A key is forgotten `forgetAfterSeconds` after its
 * last counted attempt.
 */
import { TesseraError } from '../errors.ts'
import type { ThrottleRule } from './store.ts'

export interface BackoffRule extends ThrottleRule {
  forgetAfterSeconds: number
}

/** How long the `count`-th attempt blocks its key; 0 below the threshold. */
export function computeBlockSeconds(count: number, rule: ThrottleRule): number {
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

/**
 * The refusal of a throttled attempt. It names no key and no count: an answer about an account
 * must read the same whether or not the account exists.
 */
export function createRateLimitedError(retryAfterSeconds: number): TesseraError {
  return new TesseraError('rate_limited', 'Too many attempts; wait before trying again.', {
    details: { retry_after: retryAfterSeconds },
  })
}

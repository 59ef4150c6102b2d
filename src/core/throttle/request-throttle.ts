/**
 * Per-network limits on endpoints that do not verify a password but can still be abused:
 * registration (every request counts) and refresh-token redemption (only failures count, so a
 * game client refreshing often is never slowed down). Later credential endpoints (introspection,
 * revocation, one-time tickets) take a kind here.
 */
import type { Clock } from '../clock.ts'
import { addSeconds, computeBlockSeconds, createRateLimitedError, renewBlocks, secondsUntil, type BackoffRule } from './backoff.ts'
import { describeClientNetwork } from './client-network.ts'
import type { ThrottleStore } from './store.ts'

/** The endpoints limited per network, each by its own counter. */
export const requestKinds = ['registration', 'refresh', 'introspection', 'revocation'] as const

export type RequestKind = (typeof requestKinds)[number]

export interface RequestLimit extends BackoffRule {
  /** `every`: each admitted request counts; `failures`: only those that fail. */
  counts: 'every' | 'failures'
}

export interface RequestAttempt {
  /** The request failed (for example an unknown refresh token): counts under a `failures` limit. */
  recordFailure(): Promise<void>
}

export interface RequestThrottle {
  /** Counts one request of `kind` from `ip`, or throws `rate_limited` while the network is blocked. */
  admitRequest(kind: RequestKind, ip: string): Promise<RequestAttempt>
}

export function createRequestThrottle(deps: {
  store: ThrottleStore
  clock: Clock
  limits: Readonly<Record<RequestKind, RequestLimit>>
}): RequestThrottle {
  const { store, clock, limits } = deps
  return {
    async admitRequest(kind, ip) {
      const limit = limits[kind]
      const key = `${kind}:network:${describeClientNetwork(ip)}`
      const now = clock.now()
      const [record = null] = await store.readThrottles([key], now)
      const renewal = renewBlocks([{ key, record, rule: limit }], now)
      if (renewal.until) {
        await store.extendThrottleBlocks(renewal.blocks, now)
        throw createRateLimitedError(secondsUntil(renewal.until, now))
      }
      async function count(): Promise<void> {
        const at = clock.now()
        const expiresAt = addSeconds(at, limit.forgetAfterSeconds)
        const [total = 0] = await store.incrementThrottles([{ key, expiresAt }], at)
        const seconds = computeBlockSeconds(total, limit)
        if (seconds > 0) await store.extendThrottleBlocks([{ key, blockedUntil: addSeconds(at, seconds), expiresAt }], at)
      }
      if (limit.counts === 'every') await count()
      return {
        async recordFailure() {
          if (limit.counts === 'failures') await count()
        },
      }
    },
  }
}

/**
 * Per-network limits on endpoints that do not verify a password but can still be abused:
 * registration, revocation and password-reset requests (every request counts), refresh-token
 * redemption, introspection and the use of mailed tokens (only failures count, so a game client
 * refreshing often is never slowed down).
 *
 * Admission is one atomic step of the store, as for sign-ins, so a burst of simultaneous requests
 * is admitted exactly as far as the same requests one after another. Under a `failures` limit a
 * request counts as a failure while it runs, and gives its count back when it did not fail.
 */
import type { Clock } from '../clock.ts'
import { chargeWhenSettled, inFlightLimitSeconds, type Wait } from './admission.ts'
import { addSeconds, computeBlockSeconds, createRateLimitedError, secondsUntil, type BackoffRule } from './backoff.ts'
import { describeClientNetwork } from './client-network.ts'
import type { ThrottleCharge, ThrottleStore } from './store.ts'

/** The endpoints limited per network, each by its own counter. */
export const requestKinds = [
  'registration',
  'refresh',
  'introspection',
  'revocation',
  'password_reset',
  'email_token',
  'device',
] as const

export type RequestKind = (typeof requestKinds)[number]

export interface RequestLimit extends BackoffRule {
  /** `every`: each admitted request counts; `failures`: only those that fail. */
  counts: 'every' | 'failures'
}

export interface RequestAttempt {
  /** The request failed (for example an unknown refresh token): counts under a `failures` limit. */
  recordFailure(): Promise<void>
  /** The request did not fail: under a `failures` limit its count is given back. */
  recordSuccess(): Promise<void>
}

export interface RequestThrottle {
  /** Counts one request of `kind` from `ip`, or throws `rate_limited` while the network is blocked. */
  admitRequest(kind: RequestKind, ip: string): Promise<RequestAttempt>
}

const settled: RequestAttempt = { recordFailure: async () => {}, recordSuccess: async () => {} }

export function createRequestThrottle(deps: {
  store: ThrottleStore
  clock: Clock
  limits: Readonly<Record<RequestKind, RequestLimit>>
  wait: Wait
}): RequestThrottle {
  const { store, clock, limits } = deps
  return {
    async admitRequest(kind, ip) {
      const limit = limits[kind]
      const key = `${kind}:network:${describeClientNetwork(ip)}`
      // Under `every`, the request is a failure at once; under `failures`, it is one until it ends.
      const chargesAt = (now: Date): ThrottleCharge[] => [
        {
          key,
          rule: limit,
          expiresAt: addSeconds(now, limit.forgetAfterSeconds),
          isEnforced: true,
          cap: null,
          settlesBy: limit.counts === 'every' ? null : addSeconds(now, inFlightLimitSeconds),
        },
      ]
      const { admission, now } = await chargeWhenSettled(deps, chargesAt)
      if (admission.outcome === 'blocked') throw createRateLimitedError(secondsUntil(admission.blockedUntil, now))
      if (admission.outcome === 'capped') throw new TypeError('a request limit has no cap')
      if (limit.counts === 'every') return settled
      const [count = 0] = admission.counts
      return {
        async recordFailure() {
          const at = clock.now()
          const seconds = computeBlockSeconds(count, limit)
          const blockedUntil = seconds > 0 ? addSeconds(at, seconds) : null
          await store.settleThrottleFailures(
            [{ key, blockedUntil, expiresAt: addSeconds(at, limit.forgetAfterSeconds) }],
            at,
          )
        },
        recordSuccess: () => store.refundThrottles([key], clock.now()),
      }
    },
  }
}

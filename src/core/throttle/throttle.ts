/**
 * The throttle service: sign-in back-off and lock-out, per-network request limits, and the sweep
 * of expired counters. All state lives in the ThrottleStore, so every node shares it.
 */
import type { Clock } from '../clock.ts'
import { waitWithTimer, type Wait } from './admission.ts'
import { createRequestThrottle, type RequestKind, type RequestLimit, type RequestThrottle } from './request-throttle.ts'
import { createSignInThrottle, type SignInThrottle, type SignInThrottleSettings } from './sign-in-throttle.ts'
import type { ThrottleStore } from './store.ts'

export interface ThrottleSettings {
  signIn: SignInThrottleSettings
  /** Limits by request kind. */
  requests: Readonly<Record<RequestKind, RequestLimit>>
}

export interface Throttle extends SignInThrottle, RequestThrottle {
  /** Deletes counters that have expired; returns how many. */
  deleteExpiredThrottles(): Promise<number>
}

export function createThrottle(deps: {
  store: ThrottleStore
  clock: Clock
  settings: ThrottleSettings
  /** How an attempt held back by attempts in flight waits before asking again (tests pass a quick one). */
  wait?: Wait
}): Throttle {
  const { store, clock, settings, wait = waitWithTimer } = deps
  const signIn = createSignInThrottle({ store, clock, settings: settings.signIn, wait })
  const requests = createRequestThrottle({ store, clock, limits: settings.requests, wait })
  return {
    admitSignIn: signIn.admitSignIn,
    unlockAccount: signIn.unlockAccount,
    admitRequest: requests.admitRequest,
    deleteExpiredThrottles: () => store.deleteExpiredThrottles(clock.now()),
  }
}

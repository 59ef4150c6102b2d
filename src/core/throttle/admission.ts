/**
 * Charging an attempt, waiting while attempts still in flight hold it back (`busy`). Attempts
 * sent together beyond a key's threshold thus wait for the first ones to end, and get the answer
 * they would have had sent one after another: a refusal once those failed, a verification once
 * they succeeded. The wait is bounded; an attempt still held back after it is refused for a
 * second, never let through.
 */
import type { Clock } from '../clock.ts'
import { addSeconds } from './backoff.ts'
import type { ThrottleAdmission, ThrottleCharge, ThrottleStore } from './store.ts'

export type Wait = (milliseconds: number) => Promise<void>

export const waitWithTimer: Wait = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds))

/**
 * How long an attempt may stay in flight before its charge is taken for a failure: longer than
 * any verification (a full hash queue, the backend timeouts), short enough that the attempts of
 * a node that stopped mid-way hold nothing back for long.
 */
export const inFlightLimitSeconds = 60

/** The pauses between asks: a password verification takes tens to hundreds of milliseconds. */
const busyWaitsMs = [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]

export type SettledAdmission = Exclude<ThrottleAdmission, { outcome: 'busy' }>

export async function chargeWhenSettled(
  deps: { store: ThrottleStore; clock: Clock; wait: Wait },
  chargesAt: (now: Date) => ThrottleCharge[],
): Promise<{ admission: SettledAdmission; now: Date }> {
  for (let round = 0; ; round += 1) {
    const now = deps.clock.now()
    const admission = await deps.store.chargeThrottles(chargesAt(now), now)
    if (admission.outcome !== 'busy') return { admission, now }
    const waitMs = busyWaitsMs[round]
    if (waitMs === undefined) return { admission: { outcome: 'blocked', blockedUntil: addSeconds(now, 1) }, now }
    await deps.wait(waitMs)
  }
}

import type { Clock } from '../../src/core/clock.ts'

/** A clock that moves only when a test moves it, so timeouts are tested without sleeping. */
export interface ManualClock extends Clock {
  advanceSeconds(seconds: number): void
  set(instant: Date): void
}

export const defaultClockStart = new Date('2030-01-01T00:00:00.000Z')

export function createManualClock(start: Date = defaultClockStart): ManualClock {
  let currentMs = start.getTime()
  return {
    now: () => new Date(currentMs),
    advanceSeconds(seconds) {
      currentMs += seconds * 1000
    },
    set(instant) {
      currentMs = instant.getTime()
    },
  }
}

/**
 * Cron expressions through `croner` (maintained, no dependencies, time zones and DST handled),
 * used only as a calculator: Tessera's scheduler decides when to run from the injected clock,
 * so schedules are tested without waiting.
 */
import { Cron } from 'croner'

export interface CronSchedule {
  pattern: string
  /** The latest scheduled instant at or before `at`, or null. */
  previousOccurrence(at: Date): Date | null
  /** The first scheduled instant strictly after `at`, or null. */
  nextOccurrence(at: Date): Date | null
}

/** Throws TypeError for an expression croner cannot read (checked at start-up). */
export function createCronSchedule(pattern: string, timezone: string | null): CronSchedule {
  let cron: Cron
  try {
    cron = new Cron(pattern, { paused: true, ...(timezone ? { timezone } : {}) })
  } catch (error) {
    throw new TypeError(`invalid cron expression "${pattern}": ${(error as Error).message}`)
  }
  return {
    pattern,
    previousOccurrence(at) {
      // croner excludes a run exactly at the reference; look from just after it instead.
      const [candidate] = cron.previousRuns(1, new Date(at.getTime() + 1))
      return candidate && candidate.getTime() <= at.getTime() ? candidate : (cron.previousRuns(1, at)[0] ?? null)
    },
    nextOccurrence: (at) => cron.nextRun(at),
  }
}

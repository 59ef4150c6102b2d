/**
 * Runs background jobs on cron schedules, one node per occurrence. Time comes from the clock,
 * and nothing here sets a timer: a driver (the server's loop, or a test) calls `runDueJobs()`
 * and sleeps until `nextRunAt()`. For each job, the due occurrence is the latest scheduled
 * instant at or before now; it runs when it is not older than `maxLatenessSeconds` (a server
 * that was down at 23:00 still makes that night's report if back within the hour, but never
 * replays a week of runs) and this node wins its lease.
 */
import type { Clock } from '../clock.ts'
import type { CronSchedule } from './cron-schedule.ts'
import type { SchedulerLockStore } from './store.ts'

export interface ScheduledJob {
  name: string
  schedule: CronSchedule
  /** Does the work for the occurrence at `occurrenceAt`. */
  run(occurrenceAt: Date): Promise<void>
}

export interface JobRun {
  job: string
  occurrenceAt: Date
  error: unknown | null
}

export interface Scheduler {
  /** Runs every job whose occurrence is due and not yet taken; reports what ran. */
  runDueJobs(): Promise<JobRun[]>
  /** The next instant any job is scheduled after now, or null. */
  nextRunAt(): Date | null
  jobNames(): string[]
}

export function createScheduler(deps: {
  store: SchedulerLockStore
  clock: Clock
  nodeId: string
  jobs: readonly ScheduledJob[]
  leaseSeconds: number
  maxLatenessSeconds: number
}): Scheduler {
  const { store, clock, nodeId, jobs, leaseSeconds, maxLatenessSeconds } = deps
  const names = new Set(jobs.map((job) => job.name))
  if (names.size !== jobs.length) throw new TypeError('scheduled job names must be unique')

  return {
    async runDueJobs() {
      const runs: JobRun[] = []
      for (const job of jobs) {
        const now = clock.now()
        const occurrenceAt = job.schedule.previousOccurrence(now)
        if (!occurrenceAt || now.getTime() - occurrenceAt.getTime() > maxLatenessSeconds * 1000) continue
        const isTaken = await store.acquireJobLease({
          job: job.name,
          occurrenceAt,
          owner: nodeId,
          now,
          leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000),
        })
        if (!isTaken) continue
        let error: unknown = null
        try {
          await job.run(occurrenceAt)
        } catch (caught) {
          // The occurrence still counts as done: a failing job retries at its next occurrence
          // instead of in a tight loop; the error is reported to the driver, which logs it.
          error = caught
        }
        await store.completeJobRun({ job: job.name, owner: nodeId, occurrenceAt })
        runs.push({ job: job.name, occurrenceAt, error })
      }
      return runs
    },

    nextRunAt() {
      const now = clock.now()
      const next = jobs
        .map((job) => job.schedule.nextOccurrence(now)?.getTime())
        .filter((time): time is number => time !== undefined)
      return next.length === 0 ? null : new Date(Math.min(...next))
    },

    jobNames: () => jobs.map((job) => job.name),
  }
}

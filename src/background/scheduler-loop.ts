/**
 * Drives the core's scheduler with real timers: run what is due, sleep until the next
 * occurrence (at most a minute, so a changed system clock is noticed), repeat. The timer does
 * not keep the process alive, and `stop()` waits for a run in progress.
 */
import type { Clock } from '../core/clock.ts'
import type { Scheduler } from '../core/scheduler/scheduler.ts'

export interface SchedulerLog {
  error(object: Record<string, unknown>, message: string): void
  info(object: Record<string, unknown>, message: string): void
}

export interface SchedulerLoop {
  stop(): Promise<void>
}

const maxSleepMs = 60_000
const minSleepMs = 250

export function startSchedulerLoop(deps: { scheduler: Scheduler; clock: Clock; log: SchedulerLog }): SchedulerLoop {
  const { scheduler, clock, log } = deps
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> = Promise.resolve()
  let isStopped = false

  function scheduleNext(): void {
    if (isStopped) return
    const next = scheduler.nextRunAt()
    const waitMs = next === null ? maxSleepMs : next.getTime() - clock.now().getTime()
    timer = setTimeout(tick, Math.min(maxSleepMs, Math.max(minSleepMs, waitMs)))
    timer.unref()
  }

  function tick(): void {
    running = (async () => {
      try {
        for (const run of await scheduler.runDueJobs()) {
          const fields = { job: run.job, occurrenceAt: run.occurrenceAt.toISOString() }
          if (run.error === null) log.info(fields, 'scheduled job done')
          else log.error({ ...fields, err: run.error }, 'scheduled job failed')
        }
      } catch (error) {
        log.error({ err: error }, 'scheduler could not run')
      }
      scheduleNext()
    })()
  }

  tick()
  return {
    async stop() {
      isStopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}

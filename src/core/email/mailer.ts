/**
 * Mail leaves through a `Mailer` (SMTP lives outside the core: src/background/smtp-mailer.ts),
 * and always from the outbox, never on a request's path: a request that may or may not lead to a
 * mail (a password reset for an address that may not exist) answers before anything about the
 * account is even looked up, so neither its answer nor its time tells anything.
 *
 * The outbox runs a bounded number of jobs at once and holds a bounded number waiting; beyond
 * that a job is dropped (and reported), never queued without end. Each job is bounded in time.
 * A job's failure is reported by kind only: no address, link or token reaches the log.
 */

export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
}

export interface Mailer {
  /** Sends one message; rejects when the relay refuses it or does not answer in time. */
  send(message: MailMessage): Promise<void>
}

export interface MailOutbox {
  /** Runs `job` off the caller's path; false when the outbox is full and the job was dropped. */
  enqueue(kind: string, job: () => Promise<void>): boolean
  /** Resolves once no job runs or waits (tests, and a stopping server). */
  whenIdle(): Promise<void>
}

export interface MailOutboxSettings {
  concurrency: number
  maxQueued: number
  /** Longest run of one job (look-ups, token, SMTP conversation) before it is given up. */
  jobTimeoutMs: number
}

export function createMailOutbox(deps: {
  settings: MailOutboxSettings
  /** A job failed, timed out or was dropped; `kind` names it (never its content). */
  onJobFailed(kind: string, reason: 'failed' | 'timed_out' | 'dropped', error?: unknown): void
}): MailOutbox {
  const { settings, onJobFailed } = deps
  const waiting: Array<{ kind: string; job: () => Promise<void> }> = []
  let running = 0
  let idleWaiters: Array<() => void> = []

  function settleIdle(): void {
    if (running > 0 || waiting.length > 0) return
    const waiters = idleWaiters
    idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  async function runBounded(kind: string, job: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timed_out'>((resolve) => {
      timer = setTimeout(() => resolve('timed_out'), settings.jobTimeoutMs)
    })
    try {
      const outcome = await Promise.race([job().then(() => 'done' as const), timeout])
      if (outcome === 'timed_out') onJobFailed(kind, 'timed_out')
    } catch (error) {
      onJobFailed(kind, 'failed', error)
    } finally {
      clearTimeout(timer)
    }
  }

  function pump(): void {
    while (running < settings.concurrency && waiting.length > 0) {
      const next = waiting.shift()
      if (!next) break
      running += 1
      void runBounded(next.kind, next.job).finally(() => {
        running -= 1
        pump()
        settleIdle()
      })
    }
  }

  return {
    enqueue(kind, job) {
      if (waiting.length >= settings.maxQueued) {
        onJobFailed(kind, 'dropped')
        return false
      }
      waiting.push({ kind, job })
      // Started on a later turn of the event loop: the caller's answer goes out first.
      setImmediate(pump)
      return true
    },
    whenIdle() {
      if (running === 0 && waiting.length === 0) return Promise.resolve()
      return new Promise((resolve) => idleWaiters.push(resolve))
    },
  }
}

/**
 * The end-to-end bound of one call to a backend (TESSERA_BACKEND_TIMEOUT). The drivers' own
 * timeouts each cover one stage (connecting, waiting in a queue, reading one answer), so stages
 * add up, and node-redis stops timing a command once it is written: a server that is connected
 * but silent (a paused process) would hold the caller for as long as it is silent. A deadline
 * covers the whole call instead: when it passes, the caller gets `service_unavailable` at once,
 * and the call's signal is aborted so that nothing more is sent on its behalf. A statement or
 * command already sent stays with its connection; its late answer is matched to it and dropped.
 */
import { createStoreUnavailableError } from './store-unavailable.ts'

export interface Deadline {
  /** Aborted when the deadline passes. */
  readonly signal: AbortSignal
  /** Milliseconds left (0 once passed). */
  remainingMs(): number
}

/**
 * Resolves or rejects as `work` does, or rejects with `service_unavailable` once `timeoutMs` have
 * passed, whichever comes first. `work` must send nothing once `deadline.signal` is aborted.
 */
export async function runWithinDeadline<T>(
  timeoutMs: number,
  backend: string,
  work: (deadline: Deadline) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  const startedAt = performance.now()
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = createStoreUnavailableError(new Error(`${backend} did not answer within ${timeoutMs} ms`))
      controller.abort(error)
      reject(error)
    }, timeoutMs)
  })
  const deadline: Deadline = {
    signal: controller.signal,
    remainingMs: () => Math.max(0, timeoutMs - (performance.now() - startedAt)),
  }
  try {
    // Promise.race listens to both: a late failure of abandoned work is not an unhandled rejection.
    return await Promise.race([work(deadline), expired])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Waits for `closing` (a connection's graceful end) at most `timeoutMs`; false when it has not
 * finished by then. A node must be able to stop while a backend hangs.
 */
export async function finishesWithin(closing: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return await Promise.race([closing.then(() => true), late])
  } finally {
    clearTimeout(timer)
  }
}

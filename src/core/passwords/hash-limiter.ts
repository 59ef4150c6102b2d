/**
 * Bounds how many password hashes run at once. argon2 and WebCrypto share libuv's thread pool:
 * without a bound, a login flood fills every pool thread and token checks queue behind it.
 * Past the queue limit a hash is refused at once (`server_busy`, 503) instead of piling up memory.
 */
import { TesseraError } from '../errors.ts'

export interface HashLimiter {
  /** Runs `work` when a slot is free; throws `server_busy` when the queue is full. */
  run<T>(work: () => Promise<T>): Promise<T>
  /** How many hashes are running and waiting now. */
  load(): { running: number; waiting: number }
}

export function createHashLimiter(options: { concurrency: number; maxQueue: number }): HashLimiter {
  const { concurrency, maxQueue } = options
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError('hash concurrency must be a positive integer')
  }
  let running = 0
  const waiting: Array<() => void> = []

  function release(): void {
    const next = waiting.shift()
    if (next) next()
    else running -= 1
  }

  return {
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (running < concurrency) {
        running += 1
      } else {
        if (waiting.length >= maxQueue) {
          throw new TesseraError('server_busy', 'Too many sign-ins are being processed; retry shortly.')
        }
        // The slot is handed over by release(), so `running` stays counted.
        await new Promise<void>((resolve) => waiting.push(resolve))
      }
      try {
        return await work()
      } finally {
        release()
      }
    },
    load: () => ({ running, waiting: waiting.length }),
  }
}

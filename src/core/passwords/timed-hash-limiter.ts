/** Measures each password hash inside its slot (queueing time excluded) for the metrics. */
import type { HashLimiter } from './hash-limiter.ts'

export function createTimedHashLimiter(limiter: HashLimiter, onTimed: (seconds: number) => void): HashLimiter {
  return {
    load: () => limiter.load(),
    run: (work) =>
      limiter.run(async () => {
        const startedAt = performance.now()
        try {
          return await work()
        } finally {
          onTimed((performance.now() - startedAt) / 1000)
        }
      }),
  }
}

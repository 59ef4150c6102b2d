/**
 * Verification (never creation) of bcrypt hashes imported from older systems, such as the seed
 * Flask design's `$2b$`. bcrypt is CPU-bound for tens of milliseconds, so each check runs in a
 * worker thread; workers are started on demand, reused, and stopped after a minute idle. Callers
 * bound how many checks run at once (the hash limiter), which bounds the workers too.
 */
import { Worker } from 'node:worker_threads'

/** `$2a$`, `$2b$` or `$2y$`, a cost of 4 to 14, then 22 salt and 31 hash characters. */
const bcryptPattern = /^\$2[aby]\$(0[4-9]|1[0-4])\$[./A-Za-z0-9]{53}$/
const idleWorkerMs = 60_000
const workerUrl = new URL('./bcrypt-worker.ts', import.meta.url)

/** True for a bcrypt hash this module verifies (costs above 14 would take seconds per login). */
export function isBcryptHash(hash: string): boolean {
  return bcryptPattern.test(hash)
}

export interface BcryptVerifier {
  /** True when `password` matches the bcrypt `hash`; runs off the event loop. */
  verifyBcryptPassword(password: string, hash: string): Promise<boolean>
}

interface IdleWorker {
  worker: Worker
  timer: NodeJS.Timeout
}

export function createBcryptVerifier(): BcryptVerifier {
  const idle: IdleWorker[] = []

  function takeWorker(): Worker {
    const entry = idle.pop()
    if (entry) {
      clearTimeout(entry.timer)
      return entry.worker
    }
    const worker = new Worker(workerUrl)
    // An idle pool must never keep the process alive.
    worker.unref()
    return worker
  }

  function returnWorker(worker: Worker): void {
    const entry: IdleWorker = {
      worker,
      timer: setTimeout(() => {
        const index = idle.indexOf(entry)
        if (index !== -1) idle.splice(index, 1)
        void worker.terminate()
      }, idleWorkerMs),
    }
    entry.timer.unref()
    idle.push(entry)
  }

  return {
    verifyBcryptPassword(password, hash) {
      if (!isBcryptHash(hash)) return Promise.resolve(false)
      const worker = takeWorker()
      return new Promise<boolean>((resolve, reject) => {
        const onMessage = (matches: unknown) => {
          worker.off('error', onError)
          returnWorker(worker)
          resolve(matches === true)
        }
        const onError = (error: Error) => {
          worker.off('message', onMessage)
          void worker.terminate()
          reject(error)
        }
        worker.once('message', onMessage)
        worker.once('error', onError)
        worker.postMessage({ password, hash })
      })
    },
  }
}

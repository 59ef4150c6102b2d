/**
 * WAL checkpoints off the event loop. node:sqlite runs every statement on the event loop, and a
 * commit that crosses the automatic checkpoint threshold (1,000 pages) copies and syncs up to that
 * many scattered pages to the database file there: 40–110 ms at a million sessions on a small VM,
 * during which no request is served. A worker thread with its own connection checkpoints
 * passively every `intervalMs` instead, so the server's connection rarely has anything to copy;
 * its own automatic checkpoint stays as a safety net, at a threshold the worker keeps it below.
 */
import { Worker } from 'node:worker_threads'

export interface Checkpointer {
  /**
   * Checkpoints now and resolves once done, so that the server's next write can start the WAL
   * over instead of growing it; resolves after `waitLimitMs` at the latest (a stopped or stuck
   * worker holds nobody up: the server's own threshold still bounds the WAL).
   */
  checkpointNow(): Promise<void>
  stop(): Promise<void>
}

/** The longest a caller of `checkpointNow` waits for the worker. */
const checkpointWaitLimitMs = 1000

/** The server connection's own threshold while the worker runs: reached only if the worker stops. */
export const fallbackCheckpointPages = 20_000

export function startCheckpointer(path: string, options: { intervalMs: number }): Checkpointer {
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), {
    workerData: { path, intervalMs: options.intervalMs },
  })
  // The worker holds no request: it must not keep the process alive, and its failure is not fatal.
  worker.unref()
  worker.on('error', () => {})
  let nextRequest = 0
  const waiting = new Map<number, () => void>()
  worker.on('message', (message: { checkpointed?: number }) => {
    const done = message.checkpointed === undefined ? undefined : waiting.get(message.checkpointed)
    done?.()
  })
  return {
    checkpointNow() {
      const request = nextRequest++
      return new Promise<void>((resolve) => {
        const timer = setTimeout(finish, checkpointWaitLimitMs)
        function finish() {
          clearTimeout(timer)
          waiting.delete(request)
          resolve()
        }
        waiting.set(request, finish)
        worker.postMessage({ checkpoint: request })
      })
    },
    async stop() {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      worker.postMessage('stop')
      const timer = setTimeout(() => void worker.terminate(), 2000)
      await exited
      clearTimeout(timer)
    },
  }
}

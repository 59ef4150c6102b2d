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
  stop(): Promise<void>
}

/** The server connection's own threshold while the worker runs: reached only if the worker stops. */
export const fallbackCheckpointPages = 20_000

export function startCheckpointer(path: string, options: { intervalMs: number }): Checkpointer {
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), {
    workerData: { path, intervalMs: options.intervalMs },
  })
  // The worker holds no request: it must not keep the process alive, and its failure is not fatal.
  worker.unref()
  worker.on('error', () => {})
  return {
    async stop() {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      worker.postMessage('stop')
      const timer = setTimeout(() => void worker.terminate(), 2000)
      await exited
      clearTimeout(timer)
    },
  }
}

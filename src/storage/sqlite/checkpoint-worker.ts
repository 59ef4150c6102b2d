/**
 * The worker thread of checkpointer.ts: its own connection to the database file, running a
 * passive WAL checkpoint on an interval, and at once when asked, until told to stop. Passive: it
 * never waits for a reader or a writer, so it never holds up the server's connection either.
 */
import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'

const { path, intervalMs } = workerData as { path: string; intervalMs: number }
const db = new DatabaseSync(path)
db.exec('PRAGMA busy_timeout = 1000')
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')

function checkpointOnce(): void {
  try {
    checkpoint.get()
  } catch {
    // A busy database or a transient I/O error: the next round tries again, and the server's
    // connection still checkpoints by itself past its larger threshold.
  }
}

const timer = setInterval(checkpointOnce, intervalMs)

parentPort?.on('message', (message: unknown) => {
  if (typeof message === 'object' && message !== null && 'checkpoint' in message) {
    checkpointOnce()
    parentPort?.postMessage({ checkpointed: message.checkpoint })
    return
  }
  if (message !== 'stop') return
  clearInterval(timer)
  db.close()
  parentPort?.close()
})

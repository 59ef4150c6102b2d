import type { DatabaseSync } from 'node:sqlite'
import { sharedCommitsOf } from './shared-commits.ts'

let savepointCounter = 0

/**
 * Runs the synchronous `work` atomically. Outside a transaction it opens one with `BEGIN
 * IMMEDIATE`, which takes the write lock first, so another process (a CLI beside the server)
 * cannot change the rows between the reads and the writes. Inside a transaction (a unit of work
 * holding the connection) it nests as a savepoint, so a failing step undoes only itself and the
 * caller decides about the rest. On a connection whose writes share their turn's commit
 * (shared-commits.ts), it joins that transaction as a savepoint.
 */
export function runAtomically<T>(db: DatabaseSync, work: () => T): T {
  // Ends the turn's read snapshot too: this must take the write lock, not upgrade a snapshot.
  sharedCommitsOf(db)?.openForWrite()
  if (!db.isTransaction) {
    db.exec('BEGIN IMMEDIATE')
    try {
      const result = work()
      db.exec('COMMIT')
      return result
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK')
      throw error
    }
  }
  savepointCounter += 1
  const name = `step_${savepointCounter}`
  db.exec(`SAVEPOINT ${name}`)
  try {
    const result = work()
    db.exec(`RELEASE ${name}`)
    return result
  } catch (error) {
    db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`)
    throw error
  }
}

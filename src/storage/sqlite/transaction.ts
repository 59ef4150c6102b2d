import type { DatabaseSync } from 'node:sqlite'

/**
 * Runs `work` in one write transaction. `BEGIN IMMEDIATE` takes the write lock first, so another
 * process (a CLI beside the server) cannot change the rows between the reads and the writes.
 */
export function runInTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = work()
    db.exec('COMMIT')
    return result
  } catch (error) {
    db.exec('ROLLBACK')
    throw error
  }
}

/**
 * Online backup of the embedded store, taken while the server serves. SQLite's backup API
 * copies the database in one step (one read transaction): in WAL mode that sees every
 * transaction committed before it began, never blocks the server's writes, and is never
 * restarted by them (a copy in several steps restarts whenever another connection writes).
 *
 * A backup is a directory laid out as a data directory: `tessera.db` and the `master.key`
 * without which its signing keys cannot be opened, 0600 in a 0700 directory. The key is a
 * secret: whoever holds the backup can mint tokens, so it is kept like the data directory.
 * Restoring is moving that directory into place as TESSERA_DATA_DIR (docs/operations.md).
 */
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { backup, DatabaseSync } from 'node:sqlite'
import { masterKeyFileName, readMasterKey } from '../master-key.ts'
import { assertPrivateDirectory, assertPrivateFile } from '../private-files.ts'
import { sqliteFileName } from '../sqlite/open.ts'

export interface BackupSummary {
  directory: string
  databaseBytes: number
  pages: number
  durationMs: number
}

/** The backup cannot be made as asked; the message says why and what to do. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BackupError'
  }
}

// The largest step node:sqlite accepts: the whole database in one step, so one snapshot.
const wholeDatabase = 2 ** 31 - 1

function syncPath(path: string): void {
  const descriptor = openSync(path, 'r')
  try {
    fsyncSync(descriptor)
  } finally {
    closeSync(descriptor)
  }
}

/** Copies the database and key of `dataDir` into the new directory `target`. */
export async function backUpDataDirectory(dataDir: string, target: string): Promise<BackupSummary> {
  const started = performance.now()
  const source = join(dataDir, sqliteFileName)
  if (!existsSync(source)) {
    throw new BackupError(`There is no database at ${source}: nothing to back up (TESSERA_DATA_DIR).`)
  }
  assertPrivateDirectory(dataDir)
  assertPrivateFile(source)
  const masterKeyPath = join(dataDir, masterKeyFileName)
  if (readMasterKey(masterKeyPath) === null) {
    throw new BackupError(`There is no ${masterKeyPath}: without it the backup could not be read.`)
  }
  if (existsSync(target)) {
    throw new BackupError(`${target} already exists; name a new directory for the backup.`)
  }
  mkdirSync(dirname(target), { recursive: true })
  mkdirSync(target, { mode: 0o700 })
  const partial = join(target, `${sqliteFileName}.partial`)
  try {
    // Created 0600 before SQLite opens it: the copy is never readable by others, not even briefly.
    closeSync(openSync(partial, 'wx', 0o600))
    const database = new DatabaseSync(source, { readOnly: false })
    let pages: number
    try {
      database.exec('PRAGMA busy_timeout = 5000')
      pages = await backup(database, partial, { rate: wholeDatabase })
    } finally {
      database.close()
    }
    const copy = new DatabaseSync(partial)
    try {
      const check = copy.prepare('PRAGMA quick_check').get()
      if (check?.quick_check !== 'ok')
        throw new BackupError(`The copy failed its integrity check: ${String(check?.quick_check)}`)
    } finally {
      copy.close()
    }
    syncPath(partial)
    renameSync(partial, join(target, sqliteFileName))
    copyFileSync(masterKeyPath, join(target, masterKeyFileName), constants.COPYFILE_EXCL)
    chmodSync(join(target, masterKeyFileName), 0o600)
    syncPath(join(target, masterKeyFileName))
    syncPath(target)
    return {
      directory: target,
      databaseBytes: statSync(join(target, sqliteFileName)).size,
      pages,
      durationMs: performance.now() - started,
    }
  } catch (error) {
    // Never leave a half-made backup that looks like a whole one.
    rmSync(target, { recursive: true, force: true })
    throw error
  }
}

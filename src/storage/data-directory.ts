/**
 * The data directory (TESSERA_DATA_DIR) as a whole: it exists and is private, and it holds the
 * master key that belongs to the database. Two traps are closed here:
 *
 * - a database with no key beside it: making a new key would let the server start and then
 *   fail on the signing keys sealed under the old one, so it is refused, naming both files;
 * - a command run from the wrong directory: commands that only use existing data never create
 *   a data directory (or a key), so they cannot report "No users." from an empty new one.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createMasterKey, masterKeyFileName, readMasterKey } from './master-key.ts'
import { assertPrivateDirectory } from './private-files.ts'
import { sqliteFileName } from './sqlite/open.ts'

/** The data directory cannot be used as it is; the message says which file and what to do. */
export class DataDirectoryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'DataDirectoryError'
  }
}

export interface OpenedDataDirectory {
  masterKey: Uint8Array
  masterKeyPath: string
  /** True when the key was created by this call. */
  isNewKey: boolean
}

function holdsData(path: string): boolean {
  try {
    return statSync(path).size > 0
  } catch {
    return false
  }
}

/** True when the embedded database of `dataDir` exists (its WAL alone counts too). */
export function hasSqliteDatabase(dataDir: string): boolean {
  const databasePath = join(dataDir, sqliteFileName)
  return holdsData(databasePath) || holdsData(`${databasePath}-wal`)
}

/**
 * Checks the data directory and returns its master key. `mayCreate`: the server and the
 * commands that set up a new installation create the directory and the key when absent;
 * every other command requires them. `usesSqlite`: the durable data lives in the directory.
 */
export function openDataDirectory(
  dataDir: string,
  options: { mayCreate: boolean; usesSqlite: boolean },
): OpenedDataDirectory {
  const masterKeyPath = join(dataDir, masterKeyFileName)
  if (!existsSync(dataDir)) {
    if (!options.mayCreate) {
      throw new DataDirectoryError(
        `There is no data directory at ${dataDir} (TESSERA_DATA_DIR, default ./data, relative to the working directory). ` +
          'This command does not create one: run it where the server keeps its data, or set TESSERA_DATA_DIR.',
      )
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  }
  assertPrivateDirectory(dataDir)
  const existingKey = readMasterKey(masterKeyPath)
  if (existingKey !== null) {
    if (options.usesSqlite && !options.mayCreate && !hasSqliteDatabase(dataDir)) {
      throw new DataDirectoryError(
        `There is no database in ${dataDir} (${sqliteFileName}); this command does not create one. ` +
          'Run it where the server keeps its data, or set TESSERA_DATA_DIR.',
      )
    }
    return { masterKey: existingKey, masterKeyPath, isNewKey: false }
  }
  if (options.usesSqlite && hasSqliteDatabase(dataDir)) {
    throw new DataDirectoryError(
      `${join(dataDir, sqliteFileName)} exists but ${masterKeyPath} is missing. The database's signing keys are sealed ` +
        'with the master.key it was created with, and a new key would not open them, so none is made. Put that ' +
        'master.key back (from your backup, or the data directory the database came from; mode 0600), or move the ' +
        'database away to start a new, empty installation.',
    )
  }
  if (!options.mayCreate) {
    throw new DataDirectoryError(
      `There is no master.key in ${dataDir}; this command does not create one. Run it where the server keeps its ` +
        'data, or set TESSERA_DATA_DIR.',
    )
  }
  return { masterKey: createMasterKey(masterKeyPath), masterKeyPath, isNewKey: true }
}

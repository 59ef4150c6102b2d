/** `tessera backup <directory>`: an online copy of the embedded database and its master key. */
import { resolve } from 'node:path'
import { loadConfig } from '../../config/load.ts'
import { backUpDataDirectory } from '../../storage/admin/backup.ts'
import { parseCommandArgs } from '../command-args.ts'
import { CliError, exitCodes, usageError } from '../errors.ts'
import { formatJson } from '../format.ts'
import type { Io } from '../io.ts'
import { describeDataLocation } from '../open-core.ts'
import { commandUsages } from '../usage.ts'

export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args)
  if (values.help) {
    io.stdout(commandUsages.backup)
    return exitCodes.success
  }
  const [target, ...extra] = positionals
  if (target === undefined) throw usageError('backup: missing <directory>.')
  if (extra.length > 0) throw usageError('backup: takes one <directory>.')
  const config = loadConfig(io.env)
  if (config.storage.postgres !== null) {
    throw new CliError(
      'The data is in PostgreSQL (TESSERA_DATABASE_URL): back it up with pg_dump, and keep a copy of ' +
        `${config.storage.dataDir}/master.key with it (without the key the signing keys cannot be opened).`,
    )
  }
  io.stderr(`${describeDataLocation(config)}\n`)
  const summary = await backUpDataDirectory(config.storage.dataDir, resolve(target))
  if (values.json) {
    io.stdout(formatJson({ ...summary, durationMs: Math.round(summary.durationMs) }))
    return exitCodes.success
  }
  io.stdout(
    `Backed up the database (${summary.databaseBytes} bytes) and master.key into ${summary.directory} ` +
      `in ${Math.round(summary.durationMs)} ms.\n` +
      'The backup holds master.key: whoever reads it can sign tokens. Keep it as private as the data directory.\n',
  )
  return exitCodes.success
}

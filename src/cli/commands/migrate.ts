/**
 * `tessera migrate`: brings the PostgreSQL schema to this version. The embedded SQLite database
 * needs no command (it migrates itself when opened), so this only reports it.
 */
import { loadConfig } from '../../config/load.ts'
import { TesseraError } from '../../core/errors.ts'
import { CliError, exitCodes, usageError } from '../errors.ts'
import { formatJson } from '../format.ts'
import type { Io } from '../io.ts'
import { commandUsages } from '../usage.ts'
import { parseCommandArgs } from '../command-args.ts'
import { migrateConfiguredSchema } from '../../storage/admin/schema-migration.ts'

export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args)
  if (values.help) {
    io.stdout(commandUsages.migrate)
    return exitCodes.success
  }
  if (positionals.length > 0) throw usageError('migrate: takes no arguments.')
  const config = loadConfig(io.env)
  const report = await migrateConfiguredSchema(config, new Date()).catch((error: unknown) => {
    // The driver's message tells an operator what is wrong (it never reaches an HTTP client).
    if (error instanceof TesseraError && error.code === 'service_unavailable') {
      throw new CliError(
        `PostgreSQL is not reachable: ${error.cause instanceof Error ? error.cause.message : 'no answer'}`,
      )
    }
    throw error
  })
  if (report.backend === 'sqlite') {
    io.stdout(
      values.json
        ? formatJson({ backend: 'sqlite', applied: [] })
        : `No PostgreSQL is configured (TESSERA_DATABASE_URL); the SQLite database in ${report.dataDir} migrates itself when opened and is up to date.\n`,
    )
    return exitCodes.success
  }
  const { schema, applied, version } = report
  if (values.json) {
    io.stdout(formatJson({ backend: 'postgres', schema, applied, version }))
  } else if (applied.length === 0) {
    io.stdout(`The PostgreSQL schema "${schema}" is up to date (version ${version}).\n`)
  } else {
    io.stdout(
      `Applied migration(s) ${applied.join(', ')} to the PostgreSQL schema "${schema}"; it is now at version ${version}.\n`,
    )
  }
  return exitCodes.success
}

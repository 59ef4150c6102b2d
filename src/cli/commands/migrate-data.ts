/**
 * `tessera migrate-data`: copies the embedded SQLite database (users and roles, signing keys,
 * live sessions) into the configured PostgreSQL, and Redis for sessions when it is set. Safe to
 * run again: what the target already holds is skipped.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadConfig } from '../../config/load.ts'
import { TesseraError } from '../../core/errors.ts'
import { CliError, exitCodes, usageError } from '../errors.ts'
import { formatJson } from '../format.ts'
import type { Io } from '../io.ts'
import { commandUsages } from '../usage.ts'
import { parseCommandArgs } from '../command-args.ts'
import { copyEmbeddedDatabase, hasEmbeddedDatabase } from '../../storage/admin/data-copy.ts'

const masterKeyFile = 'master.key'

/** Signing keys are sealed with the master key: the target's nodes must hold the same one. */
function assertSameMasterKey(sourceDir: string, targetDir: string): void {
  const sourceKey = join(sourceDir, masterKeyFile)
  const targetKey = join(targetDir, masterKeyFile)
  if (!existsSync(sourceKey))
    throw new CliError(`${sourceKey} is missing: it is needed to use the copied signing keys.`)
  if (sourceKey === targetKey) return
  if (!existsSync(targetKey) || readFileSync(sourceKey, 'utf8').trim() !== readFileSync(targetKey, 'utf8').trim()) {
    throw new CliError(
      `The signing keys are sealed with ${sourceKey}; copy that file (mode 0600) to ${targetKey} and to the data directory of every node first.`,
    )
  }
}

/** Driver messages help an operator here (they never reach an HTTP client). */
function explainUnavailable(error: unknown): never {
  if (error instanceof TesseraError && error.code === 'service_unavailable') {
    const cause = error.cause instanceof Error ? error.cause.message : 'no answer'
    throw new CliError(`A backend is not reachable: ${cause}`)
  }
  throw error
}

export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    from: { type: 'string' },
    'without-sessions': { type: 'boolean', default: false },
  })
  if (values.help) {
    io.stdout(commandUsages['migrate-data'])
    return exitCodes.success
  }
  if (positionals.length > 0) throw usageError('migrate-data: takes no arguments (use --from <data-dir>).')
  const config = loadConfig(io.env)
  if (config.storage.postgres === null) {
    throw new CliError('TESSERA_DATABASE_URL is not set: there is no PostgreSQL to copy into.')
  }
  const sourceDir = resolve(values.from ?? config.storage.dataDir)
  if (!(await hasEmbeddedDatabase(sourceDir)))
    throw new CliError(`There is no tessera.db in ${sourceDir} to copy from.`)
  assertSameMasterKey(sourceDir, config.storage.dataDir)
  const copy = await copyEmbeddedDatabase(config, {
    sourceDir,
    includeSessions: !values['without-sessions'],
    now: new Date(),
  }).catch(explainUnavailable)
  if (copy.outcome === 'no_source') throw new CliError(`There is no ${copy.fileName} in ${sourceDir} to copy from.`)
  const { report, layout } = copy
  if (values.json) {
    io.stdout(formatJson({ from: sourceDir, to: layout, ...report }))
  } else {
    const line = (what: string, counts: { copied: number; alreadyPresent: number }) =>
      `  ${what.padEnd(13)}${counts.copied} copied, ${counts.alreadyPresent} already there\n`
    io.stdout(
      `Copied ${sourceDir} into ${layout.durable} (sessions: ${layout.sessions}):\n` +
        line('users', report.users) +
        line('signing keys', report.signingKeys) +
        (values['without-sessions']
          ? '  sessions     not copied (--without-sessions)\n'
          : line('sessions', report.sessions)),
    )
  }
  return exitCodes.success
}

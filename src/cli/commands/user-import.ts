/**
 * `tessera user import FILE`: users from another system, one JSON object per line:
 * `{"username": "alice", "password_hash": "$2b$12$…", "roles": ["user"]}`. A bad line is reported
 * with its number and skipped; the rest of the file is imported. Importing the same file again
 * changes nothing (existing usernames are left as they are).
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { loadConfig } from '../../config/load.ts'
import type { AccountAdministration } from '../../core/application/account-admin.ts'
import { createOfflineContext, maxImportBatch, type ImportEntry } from '../../core/application/types.ts'
import { parseCommandArgs } from '../command-args.ts'
import { CliError, exitCodes, usageError } from '../errors.ts'
import { formatJson } from '../format.ts'
import type { Io } from '../io.ts'
import { withApplication } from '../open-core.ts'
import { commandUsages } from '../usage.ts'

const cliActor = { actorUserId: null, context: createOfflineContext('cli') }

interface LineError {
  line: number
  code: string
  message: string
}

interface ImportTally {
  imported: number
  existing: number
  failed: number
  errors: LineError[]
}

/** The entry a line describes, or the reason it describes none (never echoing the line). */
function parseLine(text: string): ImportEntry | string {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return 'not a JSON object'
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object'
  const { username, password_hash: passwordHash, roles, ...rest } = value as Record<string, unknown>
  if (Object.keys(rest).length > 0) return `unknown field ${Object.keys(rest)[0]}`
  if (typeof username !== 'string') return 'username must be a string'
  if (typeof passwordHash !== 'string') return 'password_hash must be a string'
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((role) => typeof role === 'string'))) {
    return 'roles must be a list of strings'
  }
  return { username, passwordHash, ...(roles === undefined ? {} : { roles: roles as string[] }) }
}

async function importBatch(
  accountAdmin: AccountAdministration,
  batch: Array<{ line: number; entry: ImportEntry }>,
  tally: ImportTally,
) {
  const results = await accountAdmin.importUsers(
    batch.map(({ entry }) => entry),
    cliActor,
  )
  results.forEach((result, index) => {
    if (result.outcome === 'imported') tally.imported += 1
    else if (result.outcome === 'exists') tally.existing += 1
    else {
      tally.failed += 1
      tally.errors.push({ line: batch[index]?.line ?? 0, code: result.code, message: result.message })
    }
  })
}

async function importFile(accountAdmin: AccountAdministration, path: string): Promise<ImportTally> {
  const tally: ImportTally = { imported: 0, existing: 0, failed: 0, errors: [] }
  const input = createReadStream(path, { encoding: 'utf8' })
  try {
    await new Promise<void>((resolve, reject) => input.once('ready', () => resolve()).once('error', reject))
  } catch {
    throw new CliError(`Cannot read ${path}.`)
  }
  let batch: Array<{ line: number; entry: ImportEntry }> = []
  let line = 0
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line += 1
    if (text.trim() === '') continue
    const parsed = parseLine(text)
    if (typeof parsed === 'string') {
      tally.failed += 1
      tally.errors.push({ line, code: 'validation_failed', message: parsed })
      continue
    }
    batch.push({ line, entry: parsed })
    if (batch.length === maxImportBatch) {
      await importBatch(accountAdmin, batch, tally)
      batch = []
    }
  }
  if (batch.length > 0) await importBatch(accountAdmin, batch, tally)
  return tally
}

export async function importUsers(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args)
  if (values.help) {
    io.stdout(commandUsages.user)
    return exitCodes.success
  }
  const [path, ...extra] = positionals
  if (path === undefined || extra.length > 0) throw usageError('user import: expected exactly one FILE.')
  const config = loadConfig(io.env)
  const tally = await withApplication(config, { io, access: 'write' }, ({ accountAdmin }) =>
    importFile(accountAdmin, path),
  )
  if (values.json) {
    io.stdout(formatJson(tally))
  } else {
    for (const error of tally.errors) io.stderr(`line ${error.line}: ${error.message} (${error.code})\n`)
    io.stdout(`Imported ${tally.imported}, already present ${tally.existing}, failed ${tally.failed}.\n`)
  }
  return tally.failed > 0 ? exitCodes.failure : exitCodes.success
}

export async function unlockUser(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args)
  if (values.help) {
    io.stdout(commandUsages.user)
    return exitCodes.success
  }
  const [username, ...extra] = positionals
  if (username === undefined || extra.length > 0) throw usageError('user unlock: expected exactly one <username>.')
  const config = loadConfig(io.env)
  const { user, clearedCounters } = await withApplication(config, { io, access: 'write' }, ({ accountAdmin }) =>
    accountAdmin.unlockUsername(username, cliActor),
  )
  io.stdout(
    values.json
      ? formatJson({ username: user.username, id: user.id, cleared_counters: clearedCounters })
      : `Unlocked ${user.username}: cleared ${clearedCounters} failure counters.\n`,
  )
  return exitCodes.success
}

/**
 * `tessera keys list` and `tessera keys rotate`. They work on the data directory directly; a
 * running server sees a rotation at its next key reload (TESSERA_KEY_RELOAD_INTERVAL), long
 * before the new key starts signing.
 */
import { loadConfig } from '../../config/load.ts'
import {
  createOfflineContext,
  signingAlgorithms,
  type SigningAlgorithm,
  type SigningKeyView,
} from '../../core/application/types.ts'
import { exitCodes, usageError } from '../errors.ts'
import { formatJson, formatTable } from '../format.ts'
import type { Io } from '../io.ts'
import { withApplication } from '../open-core.ts'
import { commandUsages } from '../usage.ts'
import { parseCommandArgs } from '../command-args.ts'

function describeKey(key: SigningKeyView) {
  return {
    kid: key.kid,
    algorithm: key.algorithm,
    state: key.state,
    createdAt: key.createdAt.toISOString(),
    activatesAt: key.activatesAt.toISOString(),
    retiresAt: key.retiresAt?.toISOString() ?? null,
  }
}

function formatKeyTable(keys: SigningKeyView[]): string {
  const rows = keys.map((key) => {
    const view = describeKey(key)
    return [view.kid, view.algorithm, view.state, view.activatesAt, view.retiresAt ?? '-']
  })
  return `${formatTable([['KID', 'ALG', 'STATE', 'SIGNS FROM', 'LEAVES JWKS AT'], ...rows])}\n`
}

function parseOptions(args: string[]) {
  const { values, positionals } = parseCommandArgs(args, {
    algorithm: { type: 'string' },
    emergency: { type: 'boolean', default: false },
  })
  if (positionals.length > 0) throw usageError('keys: takes no arguments besides its options.')
  return { isJson: values.json, isHelp: values.help, algorithm: values.algorithm, isEmergency: values.emergency }
}

function readAlgorithm(algorithm: string | undefined): SigningAlgorithm | undefined {
  if (algorithm === undefined) return undefined
  const known = signingAlgorithms.find((candidate) => candidate === algorithm)
  if (known !== undefined) return known
  throw usageError(`keys rotate: --algorithm is ${signingAlgorithms.join(', ')}.`)
}

async function listKeys(args: string[], io: Io): Promise<number> {
  const options = parseOptions(args)
  if (options.algorithm !== undefined || options.isEmergency)
    throw usageError('keys list: takes no --algorithm or --emergency.')
  if (options.isHelp) {
    io.stdout(commandUsages.keys)
    return exitCodes.success
  }
  const keys = await withApplication(loadConfig(io.env), { io, access: 'read' }, async ({ tokenAdmin }) =>
    tokenAdmin.listSigningKeys(),
  )
  io.stdout(options.isJson ? formatJson({ keys: keys.map(describeKey) }) : formatKeyTable(keys))
  return exitCodes.success
}

async function rotateKeys(args: string[], io: Io): Promise<number> {
  const options = parseOptions(args)
  if (options.isHelp) {
    io.stdout(commandUsages.keys)
    return exitCodes.success
  }
  const algorithm = readAlgorithm(options.algorithm)
  const config = loadConfig(io.env)
  const { added, keys } = await withApplication(config, { io, access: 'write' }, async ({ tokenAdmin }) => {
    const actor = { actorUserId: null, context: createOfflineContext('cli') }
    const key = await tokenAdmin.rotateSigningKeys({ algorithm, emergency: options.isEmergency }, actor)
    return { added: key, keys: tokenAdmin.listSigningKeys() }
  })
  if (options.isJson) {
    io.stdout(formatJson({ key: describeKey(added), keys: keys.map(describeKey) }))
    return exitCodes.success
  }
  const retiring = keys.filter((key) => key.kid !== added.kid && key.retiresAt !== null)
  if (options.isEmergency) {
    io.stdout(
      `Replaced every signing key with ${added.kid} (${added.algorithm}), which signs now; tokens of the other keys no longer verify.\n` +
        `Running servers pick it up within ${config.tokens.keyReloadIntervalSeconds} s (at once when they share PostgreSQL or Redis).\n`,
    )
    return exitCodes.success
  }
  io.stdout(
    `Published signing key ${added.kid} (${added.algorithm}); it signs from ${added.activatesAt.toISOString()}.\n` +
      retiring.map((key) => `Key ${key.kid} leaves the JWKS at ${key.retiresAt?.toISOString()}.\n`).join('') +
      `Running servers pick it up within ${config.tokens.keyReloadIntervalSeconds} s.\n`,
  )
  return exitCodes.success
}

export async function run(args: string[], io: Io): Promise<number> {
  const [subcommand, ...rest] = args
  switch (subcommand) {
    case 'list':
      return listKeys(rest, io)
    case 'rotate':
      return rotateKeys(rest, io)
    case undefined:
      throw usageError('keys: missing subcommand (list or rotate).')
    case '-h':
    case '--help':
      io.stdout(commandUsages.keys)
      return exitCodes.success
    default:
      throw usageError(`keys: unknown subcommand "${subcommand}" (expected list or rotate).`)
  }
}

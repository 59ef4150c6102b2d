/** `tessera config check`: validates the configuration and prints the effective settings. */
import { describeConfig, loadConfig } from '../../config/load.ts'
import { checkListenHost, readTlsMaterial } from '../../config/start-checks.ts'
import { exitCodes, usageError } from '../errors.ts'
import type { Io } from '../io.ts'
import { commandUsages } from '../usage.ts'
import { formatJson } from '../format.ts'
import { parseCommandArgs } from '../command-args.ts'

/** `{ server: { port: 8080 } }` → `["server.port", "8080"]`; lists are comma-joined. */
function flattenSettings(value: unknown, prefix: string, lines: Array<[string, string]>): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) {
      flattenSettings(inner, prefix === '' ? key : `${prefix}.${key}`, lines)
    }
    return
  }
  const text = Array.isArray(value) ? value.join(',') : value === null ? '(not set)' : String(value)
  lines.push([prefix, text])
}

async function checkConfig(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args)
  if (values.help) {
    io.stdout(commandUsages.config)
    return exitCodes.success
  }
  if (positionals.length > 0) throw usageError('config check: takes no arguments.')
  // A ConfigError carries every bad setting; the caller prints them all and exits with 1.
  const config = loadConfig(io.env)
  // What a start checks beyond the values: the host resolves, the TLS files hold a key pair.
  await checkListenHost(config)
  if (config.server.tls) readTlsMaterial(config.server.tls)
  const settings = describeConfig(config)
  if (values.json) {
    io.stdout(formatJson(settings))
    return exitCodes.success
  }
  const lines: Array<[string, string]> = []
  flattenSettings(settings, '', lines)
  const width = Math.max(...lines.map(([name]) => name.length))
  io.stdout('Configuration is valid. Effective settings:\n')
  io.stdout(lines.map(([name, text]) => `  ${name.padEnd(width)}  ${text}\n`).join(''))
  return exitCodes.success
}

export async function run(args: string[], io: Io): Promise<number> {
  const [subcommand, ...rest] = args
  switch (subcommand) {
    case 'check':
      return checkConfig(rest, io)
    case undefined:
      throw usageError('config: missing subcommand (check).')
    case '-h':
    case '--help':
      io.stdout(commandUsages.config)
      return exitCodes.success
    default:
      throw usageError(`config: unknown subcommand "${subcommand}" (expected check).`)
  }
}

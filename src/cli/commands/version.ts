/** `tessera version`: the package version and the Node.js running it. */
import { readFileSync } from 'node:fs'
import { exitCodes, usageError } from '../errors.ts'
import type { Io } from '../io.ts'
import { commandUsages } from '../usage.ts'
import { formatJson } from '../format.ts'
import { parseCommandArgs } from '../command-args.ts'

export function readPackageVersion(): string {
  const packageUrl = new URL('../../../package.json', import.meta.url)
  const packageJson: unknown = JSON.parse(readFileSync(packageUrl, 'utf8'))
  const version = (packageJson as { version?: unknown }).version
  if (typeof version !== 'string') throw new Error('package.json has no version')
  return version
}

export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args)
  if (values.help) {
    io.stdout(commandUsages.version)
    return exitCodes.success
  }
  if (positionals.length > 0) throw usageError('version: takes no arguments.')
  const version = readPackageVersion()
  io.stdout(
    values.json
      ? formatJson({ version, node: process.versions.node })
      : `tessera ${version} (Node.js ${process.versions.node})\n`,
  )
  return exitCodes.success
}

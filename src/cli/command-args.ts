/** Parses a command's arguments with the options every command takes: `--json` and `--help`. */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'

const commonOptions = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

export function parseCommandArgs<const T extends ParseArgsOptionsConfig = Record<never, never>>(
  args: string[],
  options?: T,
) {
  return parseArgs({ args, options: { ...commonOptions, ...(options as T) }, allowPositionals: true })
}

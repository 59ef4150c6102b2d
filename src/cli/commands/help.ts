/** `tessera help [<command>]`. */
import { exitCodes, usageError } from '../errors.ts'
import type { Io } from '../io.ts'
import { commandUsages, generalUsage, isCommandName } from '../usage.ts'

export async function run(args: string[], io: Io): Promise<number> {
  const [command, ...extra] = args
  if (extra.length > 0) throw usageError('help: takes at most one command name.')
  if (command === undefined) {
    io.stdout(generalUsage)
    return exitCodes.success
  }
  if (!isCommandName(command)) throw usageError(`help: unknown command "${command}".`)
  io.stdout(commandUsages[command])
  return exitCodes.success
}

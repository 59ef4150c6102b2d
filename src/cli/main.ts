/**
 * The `tessera` operator command. `runCli` takes the arguments and an `Io`, and returns the
 * exit code, so tests can call it in-process; run as a program, it uses the real process.
 */
import { parseArgs } from 'node:util'
import { run as runAudit } from './commands/audit.ts'
import { run as runBackup } from './commands/backup.ts'
import { run as runConfig } from './commands/config.ts'
import { run as runHelp } from './commands/help.ts'
import { run as runMigrate } from './commands/migrate.ts'
import { run as runMigrateData } from './commands/migrate-data.ts'
import { run as runRole } from './commands/role.ts'
import { run as runServe } from './commands/serve.ts'
import { run as runUser } from './commands/user.ts'
import { run as runVersion } from './commands/version.ts'
import { run as runClient } from './commands/client.ts'
import { run as runKeys } from './commands/keys.ts'
import { exitCodes, reportError, usageError } from './errors.ts'
import { createProcessIo, type Io } from './io.ts'
import { generalUsage, type CommandName } from './usage.ts'

type Command = (args: string[], io: Io) => Promise<number>

const commands: Record<CommandName, Command> = {
  serve: runServe,
  user: runUser,
  role: runRole,
  config: runConfig,
  audit: runAudit,
  version: runVersion,
  help: runHelp,
  keys: runKeys,
  client: runClient,
  migrate: runMigrate,
  'migrate-data': runMigrateData,
  backup: runBackup,
}

async function dispatch(args: string[], io: Io): Promise<number> {
  const commandIndex = args.findIndex((arg) => !arg.startsWith('-'))
  const globalArgs = commandIndex === -1 ? args : args.slice(0, commandIndex)
  const { values } = parseArgs({
    args: globalArgs,
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'v', default: false },
    },
  })
  if (values.version) return runVersion([], io)
  const name = commandIndex === -1 ? undefined : args[commandIndex]
  if (values.help) {
    io.stdout(generalUsage)
    return exitCodes.success
  }
  if (name === undefined) {
    io.stderr(generalUsage)
    return exitCodes.usage
  }
  const command = Object.hasOwn(commands, name) ? commands[name as CommandName] : undefined
  if (!command) throw usageError(`unknown command "${name}".`)
  return command(args.slice(commandIndex + 1), io)
}

/** Runs one `tessera` invocation and returns its exit code; never throws. */
export async function runCli(args: string[], io: Io): Promise<number> {
  try {
    return await dispatch(args, io)
  } catch (error) {
    return reportError(error, io)
  }
}

if (import.meta.main) {
  process.exitCode = await runCli(process.argv.slice(2), createProcessIo(process.env))
}

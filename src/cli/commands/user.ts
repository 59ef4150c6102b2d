/** `tessera user create` and `tessera user list`. */
import { loadConfig } from '../../config/load.ts'
import { createOfflineContext, defaultRoles, type UserRecord } from '../../core/application/types.ts'
import { CliError, exitCodes, usageError } from '../errors.ts'
import type { Io } from '../io.ts'
import { withApplication } from '../open-core.ts'
import { commandUsages } from '../usage.ts'
import { formatJson } from '../format.ts'
import { describeUser, formatUserTable } from '../user-view.ts'
import { importUsers, unlockUser } from './user-import.ts'
import { parseCommandArgs } from '../command-args.ts'
import { resetSecondFactor, showSecondFactor } from './user-second-factor.ts'
import { runUserEmail } from './user-email.ts'
import { deleteUser, disableUser, enableUser, runSessions, setPassword, showUser } from './user-lifecycle.ts'

const listPageSize = 200

// A password in argv is kept in shell history and visible to every local user through ps.
const passwordArgumentRefusal =
  'The password is never taken as an argument; type it at the prompt or pipe it on standard input.'

/** Reads the new password: twice at a terminal to catch typos, once from a pipe. */
async function readNewPassword(io: Io, username: string): Promise<string> {
  const password = await io.readSecret(`Password for ${username}: `)
  if (io.isInteractive) {
    const repeated = await io.readSecret('Repeat the password: ')
    if (repeated !== password) throw new CliError('The passwords do not match.')
  }
  return password
}

async function createUser(args: string[], io: Io): Promise<number> {
  if (args.some((arg) => /^--?(?:password|pass|p)(?:=|$)/.test(arg))) {
    throw usageError(passwordArgumentRefusal)
  }
  const { values, positionals } = parseCommandArgs(args, { role: { type: 'string', multiple: true, default: [] } })
  if (values.help) {
    io.stdout(commandUsages.user)
    return exitCodes.success
  }
  const [username, ...extra] = positionals
  if (username === undefined) throw usageError('user create: missing <username>.')
  if (extra.length > 0) {
    // The extra argument is not echoed: it may well be the password.
    throw usageError(`user create: too many arguments. ${passwordArgumentRefusal}`)
  }
  const config = loadConfig(io.env)
  const user = await withApplication(config, { io, access: 'write' }, async ({ accountAdmin }) => {
    // Refuse a taken name before asking for a password (registerUser still guards the race).
    if (await accountAdmin.findUserByUsername(username)) {
      throw new CliError('This username is already taken.')
    }
    const password = await readNewPassword(io, username)
    const actor = { actorUserId: null, context: createOfflineContext('cli') }
    return accountAdmin.createUser({ username, password, roles: [...defaultRoles, ...values.role] }, actor)
  })
  const view = describeUser(user)
  io.stdout(
    values.json
      ? formatJson(view)
      : `Created user ${view.username} with roles ${view.roles.join(', ')} (id ${view.id}).\n`,
  )
  return exitCodes.success
}

async function listUsers(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args)
  if (values.help) {
    io.stdout(commandUsages.user)
    return exitCodes.success
  }
  if (positionals.length > 0) throw usageError('user list: takes no arguments.')
  const config = loadConfig(io.env)
  const users = await withApplication(config, { io, access: 'read' }, async ({ accountAdmin }) => {
    const all: UserRecord[] = []
    let after: string | null = null
    for (;;) {
      const page = await accountAdmin.listUsers({ after, limit: listPageSize })
      all.push(...page)
      const last = page.at(-1)
      if (page.length < listPageSize || last === undefined) return all
      after = last.usernameKey
    }
  })
  const views = users.map(describeUser)
  if (values.json) io.stdout(formatJson({ users: views }))
  else if (views.length === 0) io.stdout('No users.\n')
  else io.stdout(formatUserTable(views))
  return exitCodes.success
}

export async function run(args: string[], io: Io): Promise<number> {
  const [subcommand, ...rest] = args
  switch (subcommand) {
    case 'create':
      return createUser(rest, io)
    case 'list':
      return listUsers(rest, io)
    case 'import':
      return importUsers(rest, io)
    case 'unlock':
      return unlockUser(rest, io)
    case 'mfa':
      return showSecondFactor(rest, io)
    case 'mfa-reset':
      return resetSecondFactor(rest, io)
    case 'email':
      return runUserEmail(rest, io)
    case 'show':
      return showUser(rest, io)
    case 'sessions':
      return runSessions(rest, io)
    case 'disable':
      return disableUser(rest, io)
    case 'enable':
      return enableUser(rest, io)
    case 'delete':
      return deleteUser(rest, io)
    case 'password':
      return setPassword(rest, io)
    case undefined:
      throw usageError(
        'user: missing subcommand (create, list, show, sessions, disable, enable, delete, password, import, unlock, mfa or mfa-reset).',
      )
    case '-h':
    case '--help':
      io.stdout(commandUsages.user)
      return exitCodes.success
    default:
      throw usageError(
        `user: unknown subcommand "${subcommand}" (expected create, list, show, sessions, disable, enable, delete, password, import, unlock, mfa or mfa-reset).`,
      )
  }
}

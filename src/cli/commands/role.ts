/** `tessera role grant` and `tessera role revoke`. Both are idempotent: a no-op is a success. */
import { loadConfig } from '../../config/load.ts'
import { createOfflineContext } from '../../core/application/types.ts'
import { CliError, exitCodes, usageError } from '../errors.ts'
import type { Io } from '../io.ts'
import { withApplication } from '../open-core.ts'
import { commandUsages } from '../usage.ts'
import { formatJson } from '../format.ts'
import { describeUser } from '../user-view.ts'
import { parseCommandArgs } from '../command-args.ts'

type RoleChange = 'grant' | 'revoke'

async function changeRole(change: RoleChange, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args)
  if (values.help) {
    io.stdout(commandUsages.role)
    return exitCodes.success
  }
  const [username, role, ...extra] = positionals
  if (username === undefined) throw usageError(`role ${change}: missing <username>.`)
  if (role === undefined) throw usageError(`role ${change}: missing <role>.`)
  if (extra.length > 0) throw usageError(`role ${change}: too many arguments.`)

  const config = loadConfig(io.env)
  const outcome = await withApplication(config, { io, access: 'write' }, async ({ accountAdmin }) => {
    const user = await accountAdmin.findUserByUsername(username)
    if (!user) throw new CliError(`No user named "${username}".`)
    const hasRole = user.roles.includes(role)
    if (change === 'grant' ? hasRole : !hasRole) return { user, isChanged: false }
    const roles = change === 'grant' ? [...user.roles, role] : user.roles.filter((held) => held !== role)
    const actor = { actorUserId: null, context: createOfflineContext('cli') }
    return { user: await accountAdmin.replaceUserRoles(user.id, roles, actor), isChanged: true }
  })

  const view = describeUser(outcome.user)
  if (values.json) {
    io.stdout(formatJson({ user: view, isChanged: outcome.isChanged }))
  } else if (!outcome.isChanged) {
    const state = change === 'grant' ? 'already has' : 'does not have'
    io.stdout(`${view.username} ${state} the role ${role}; nothing changed.\n`)
  } else {
    const action = change === 'grant' ? `Granted ${role} to` : `Revoked ${role} from`
    const roles = view.roles.join(', ') || '(none)'
    io.stdout(`${action} ${view.username}. Roles now: ${roles}.\n`)
  }
  return exitCodes.success
}

export async function run(args: string[], io: Io): Promise<number> {
  const [subcommand, ...rest] = args
  switch (subcommand) {
    case 'grant':
    case 'revoke':
      return changeRole(subcommand, rest, io)
    case undefined:
      throw usageError('role: missing subcommand (grant or revoke).')
    case '-h':
    case '--help':
      io.stdout(commandUsages.role)
      return exitCodes.success
    default:
      throw usageError(`role: unknown subcommand "${subcommand}" (expected grant or revoke).`)
  }
}

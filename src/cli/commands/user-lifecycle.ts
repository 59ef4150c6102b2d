/**
 * `tessera user show|sessions|disable|enable|delete|password`: finding an account and changing
 * its life. USER is a username (any spelling) or a user id. Sessions end at once in the durable
 * store; running nodes drop their copies when told over the invalidation bus (PostgreSQL or
 * Redis), or within TESSERA_SESSION_CACHE_TTL.
 */
import { loadConfig } from '../../config/load.ts'
import type { Application } from '../../core/application/application.ts'
import { createOfflineContext, type UserRecord } from '../../core/application/types.ts'
import { parseCommandArgs } from '../command-args.ts'
import { CliError, exitCodes, usageError } from '../errors.ts'
import { formatJson, formatTable } from '../format.ts'
import type { Io } from '../io.ts'
import { withApplication } from '../open-core.ts'
import { commandUsages } from '../usage.ts'
import { describeUser } from '../user-view.ts'

const offlineActor = () => ({ actorUserId: null, context: createOfflineContext('cli') })

function describeAccount(user: UserRecord) {
  return {
    ...describeUser(user),
    disabledAt: user.disabledAt?.toISOString() ?? null,
    isPasswordChangeRequired: user.isPasswordChangeRequired,
  }
}

/** Parses `<subcommand> USER [options]`; null when help was asked for (and printed). */
function readUserArgs<const T extends Parameters<typeof parseCommandArgs>[1]>(
  args: string[],
  subcommand: string,
  io: Io,
  options?: T,
) {
  const parsed = parseCommandArgs(args, options)
  if (parsed.values.help) {
    io.stdout(commandUsages.user)
    return null
  }
  const [reference, ...extra] = parsed.positionals
  if (reference === undefined || extra.length > 0)
    throw usageError(`user ${subcommand}: expected exactly one USER (a username or an id).`)
  return { values: parsed.values as typeof parsed.values, reference }
}

async function withUser<T>(
  io: Io,
  access: 'read' | 'write',
  reference: string,
  work: (application: Application, user: UserRecord) => Promise<T>,
): Promise<T> {
  return withApplication(loadConfig(io.env), { io, access }, async (application) => {
    const user = await application.accountAdmin.resolveUser(reference).catch((error: unknown) => {
      throw error instanceof Error && 'code' in error && error.code === 'not_found'
        ? new CliError(`No user "${reference}".`)
        : error
    })
    return work(application, user)
  })
}

export async function showUser(args: string[], io: Io): Promise<number> {
  const parsed = readUserArgs(args, 'show', io)
  if (!parsed) return exitCodes.success
  const { user, sessions } = await withUser(io, 'read', parsed.reference, async ({ accountAdmin }, found) => ({
    user: found,
    sessions: await accountAdmin.listUserSessions(found.id),
  }))
  const view = {
    ...describeAccount(user),
    liveSessions: sessions.length,
    lastSeenAt:
      sessions
        .map((session) => session.lastSeenAt)
        .sort((a, b) => b.getTime() - a.getTime())[0]
        ?.toISOString() ?? null,
  }
  if (parsed.values.json) {
    io.stdout(formatJson(view))
    return exitCodes.success
  }
  const rows = [
    ['username', view.username],
    ['id', view.id],
    ['roles', view.roles.join(', ') || '(none)'],
    ['status', view.isDisabled ? `disabled since ${view.disabledAt}` : 'active'],
    ['password change', view.isPasswordChangeRequired ? 'required at next sign-in' : 'not required'],
    ['created', view.createdAt],
    ['live sessions', `${view.liveSessions}${view.lastSeenAt ? ` (last activity ${view.lastSeenAt})` : ''}`],
  ]
  io.stdout(`${formatTable(rows)}\n`)
  return exitCodes.success
}

async function listSessions(args: string[], io: Io): Promise<number> {
  const parsed = readUserArgs(args, 'sessions list', io)
  if (!parsed) return exitCodes.success
  const { user, sessions } = await withUser(io, 'read', parsed.reference, async ({ accountAdmin }, found) => ({
    user: found,
    sessions: await accountAdmin.listUserSessions(found.id),
  }))
  const views = sessions.map((session) => ({
    id: session.id,
    transport: session.transport,
    createdAt: session.createdAt.toISOString(),
    lastSeenAt: session.lastSeenAt.toISOString(),
    ip: session.ip,
    userAgent: session.userAgent,
    amr: session.amr,
  }))
  if (parsed.values.json) io.stdout(formatJson({ user: describeUser(user), sessions: views }))
  else if (views.length === 0) io.stdout(`${user.username} has no live session.\n`)
  else {
    const rows = [['SESSION', 'TRANSPORT', 'CREATED', 'LAST SEEN', 'IP', 'USER AGENT']]
    for (const view of views)
      rows.push([view.id, view.transport, view.createdAt, view.lastSeenAt, view.ip, view.userAgent])
    io.stdout(`${formatTable(rows)}\n`)
  }
  return exitCodes.success
}

async function endSessions(args: string[], io: Io): Promise<number> {
  const parsed = readUserArgs(args, 'sessions end', io)
  if (!parsed) return exitCodes.success
  const ended = await withUser(io, 'write', parsed.reference, ({ accountLifecycle }, user) =>
    accountLifecycle.endUserSessions(user.id, offlineActor()),
  )
  io.stdout(
    parsed.values.json
      ? formatJson({ user: describeUser(ended.user), endedSessions: ended.endedSessions })
      : `Ended every session of ${ended.user.username} (${ended.endedSessions} live).\n`,
  )
  return exitCodes.success
}

export async function runSessions(args: string[], io: Io): Promise<number> {
  const [action, ...rest] = args
  if (action === 'list') return listSessions(rest, io)
  if (action === 'end') return endSessions(rest, io)
  throw usageError('user sessions: expected "list USER" or "end USER".')
}

export async function disableUser(args: string[], io: Io): Promise<number> {
  const parsed = readUserArgs(args, 'disable', io, { reason: { type: 'string' } })
  if (!parsed) return exitCodes.success
  const reason = typeof parsed.values.reason === 'string' ? parsed.values.reason : null
  const result = await withUser(io, 'write', parsed.reference, ({ accountLifecycle }, user) =>
    accountLifecycle.disableUser(user.id, reason, offlineActor()),
  )
  io.stdout(
    parsed.values.json
      ? formatJson({ user: describeAccount(result.user), endedSessions: result.endedSessions })
      : `Disabled ${result.user.username}; ended ${result.endedSessions} live sessions.\n`,
  )
  return exitCodes.success
}

export async function enableUser(args: string[], io: Io): Promise<number> {
  const parsed = readUserArgs(args, 'enable', io)
  if (!parsed) return exitCodes.success
  const user = await withUser(io, 'write', parsed.reference, ({ accountLifecycle }, found) =>
    accountLifecycle.enableUser(found.id, offlineActor()),
  )
  io.stdout(parsed.values.json ? formatJson({ user: describeAccount(user) }) : `Enabled ${user.username}.\n`)
  return exitCodes.success
}

export async function deleteUser(args: string[], io: Io): Promise<number> {
  const parsed = readUserArgs(args, 'delete', io, { yes: { type: 'boolean', default: false } })
  if (!parsed) return exitCodes.success
  // Deleting cannot be undone: a script says so explicitly.
  if (parsed.values.yes !== true) throw usageError('user delete: cannot be undone; add --yes to delete the account.')
  const user = await withUser(io, 'write', parsed.reference, async ({ accountLifecycle }, found) => {
    await accountLifecycle.deleteUser(found.id, offlineActor())
    return found
  })
  io.stdout(
    parsed.values.json ? formatJson({ deleted: describeUser(user) }) : `Deleted ${user.username} (id ${user.id}).\n`,
  )
  return exitCodes.success
}

export async function setPassword(args: string[], io: Io): Promise<number> {
  if (args.some((arg) => /^--?(?:password|pass|p)(?:=|$)/.test(arg))) {
    throw usageError('The password is never taken as an argument; type it at the prompt or pipe it on standard input.')
  }
  const parsed = readUserArgs(args, 'password', io, {
    'keep-password': { type: 'boolean', default: false },
    'no-require-change': { type: 'boolean', default: false },
  })
  if (!parsed) return exitCodes.success
  const { values } = parsed
  const keepsPassword = values['keep-password'] === true
  if (keepsPassword && values['no-require-change'] === true) {
    throw usageError('user password: --keep-password with --no-require-change would change nothing.')
  }
  const isChangeRequired = keepsPassword || values['no-require-change'] !== true
  const user = await withUser(io, 'write', parsed.reference, async ({ accountLifecycle }, found) => {
    let password: string | null = null
    if (!keepsPassword) {
      password = await io.readSecret(`New password for ${found.username}: `)
      if (io.isInteractive && (await io.readSecret('Repeat the password: ')) !== password)
        throw new CliError('The passwords do not match.')
    }
    return accountLifecycle.setUserPassword(found.id, { password, isChangeRequired }, offlineActor())
  })
  const what = keepsPassword
    ? `${user.username} must choose a new password at the next sign-in.`
    : `Set the password of ${user.username}; every session ended${isChangeRequired ? '; a new password is required at the next sign-in' : ''}.`
  io.stdout(values.json ? formatJson({ user: describeAccount(user) }) : `${what}\n`)
  return exitCodes.success
}

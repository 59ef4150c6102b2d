/** `tessera user email show USER` and `tessera user email set USER ADDRESS [--verified]`. */
import { loadConfig } from '../../config/load.ts'
import { createOfflineContext } from '../../core/application/types.ts'
import { parseCommandArgs } from '../command-args.ts'
import { CliError, exitCodes, usageError } from '../errors.ts'
import { formatJson } from '../format.ts'
import type { Io } from '../io.ts'
import { withApplication } from '../open-core.ts'
import { commandUsages } from '../usage.ts'

function describeEmail(username: string, email: { address: string; verifiedAt: Date | null } | null) {
  return {
    username,
    email: email?.address ?? null,
    verified: email?.verifiedAt != null,
    verified_at: email?.verifiedAt?.toISOString() ?? null,
  }
}

function printEmail(io: Io, view: ReturnType<typeof describeEmail>, asJson: boolean): void {
  if (asJson) io.stdout(formatJson(view))
  else if (view.email === null) io.stdout(`${view.username}: no email address.\n`)
  else
    io.stdout(`${view.username}: ${view.email} (${view.verified ? `verified ${view.verified_at}` : 'not verified'}).\n`)
}

export async function runUserEmail(args: string[], io: Io): Promise<number> {
  const [action, ...rest] = args
  const { values, positionals } = parseCommandArgs(rest, { verified: { type: 'boolean', default: false } })
  if (action === '-h' || action === '--help' || values.help) {
    io.stdout(commandUsages.user)
    return exitCodes.success
  }
  if (action !== 'show' && action !== 'set') throw usageError('user email: expected show or set.')
  const [username, address, ...extra] = positionals
  const expected = action === 'set' ? 2 : 1
  if (username === undefined || positionals.length !== expected || extra.length > 0) {
    throw usageError(
      action === 'set' ? 'user email set: expected <username> <address>.' : 'user email show: expected <username>.',
    )
  }
  const config = loadConfig(io.env)
  const view = await withApplication(
    config,
    { io, access: action === 'set' ? 'write' : 'read' },
    async ({ accountAdmin, email }) => {
      const user = await accountAdmin.findUserByUsername(username)
      if (!user) throw new CliError(`No user named ${username}.`)
      if (action === 'show') return describeEmail(user.username, await email.findUserEmail(user.id))
      const actor = { actorUserId: null, context: createOfflineContext('cli') }
      return describeEmail(
        user.username,
        await email.setUserEmail(user.id, { email: address ?? '', verified: values.verified }, actor),
      )
    },
  )
  printEmail(io, view, values.json)
  return exitCodes.success
}

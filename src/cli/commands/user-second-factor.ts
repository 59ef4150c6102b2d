/** `tessera user mfa` (whether an account has a second factor) and `tessera user mfa-reset`. */
import { loadConfig } from '../../config/load.ts'
import { createOfflineContext } from '../../core/application/types.ts'
import { TesseraError } from '../../core/errors.ts'
import { parseCommandArgs } from '../command-args.ts'
import { CliError, exitCodes, usageError } from '../errors.ts'
import { formatJson } from '../format.ts'
import type { Io } from '../io.ts'
import { withApplication } from '../open-core.ts'
import { commandUsages } from '../usage.ts'

function readUsername(args: string[], subcommand: string) {
  const { values, positionals } = parseCommandArgs(args)
  const [username, ...extra] = positionals
  if (!values.help && (username === undefined || extra.length > 0))
    throw usageError(`user ${subcommand}: expected exactly one <username>.`)
  return { values, username: username ?? '' }
}

export async function showSecondFactor(args: string[], io: Io): Promise<number> {
  const { values, username } = readUsername(args, 'mfa')
  if (values.help) {
    io.stdout(commandUsages.user)
    return exitCodes.success
  }
  const config = loadConfig(io.env)
  const { user, status } = await withApplication(
    config,
    { io, access: 'read' },
    async ({ accountAdmin, secondFactor }) => {
      const found = await accountAdmin.findUserByUsername(username)
      if (!found) throw new CliError(`No user named ${username}.`)
      return { user: found, status: await secondFactor.describeUser(found.id) }
    },
  )
  const view = {
    username: user.username,
    id: user.id,
    enabled: status.isEnabled,
    enabled_at: status.enabledAt?.toISOString() ?? null,
    recovery_codes_left: status.recoveryCodesLeft,
    passkeys: status.passkeyCount,
    required: status.isRequired,
  }
  if (values.json) {
    io.stdout(formatJson(view))
  } else {
    const state = view.enabled ? `on since ${view.enabled_at} (${view.recovery_codes_left} recovery codes left)` : 'off'
    const rule = view.required ? '; required by a role' : ''
    io.stdout(`${view.username}: second factor ${state}; ${view.passkeys} passkeys${rule}.\n`)
  }
  return exitCodes.success
}

export async function resetSecondFactor(args: string[], io: Io): Promise<number> {
  const { values, username } = readUsername(args, 'mfa-reset')
  if (values.help) {
    io.stdout(commandUsages.user)
    return exitCodes.success
  }
  const config = loadConfig(io.env)
  const actor = { actorUserId: null, context: createOfflineContext('cli') }
  const result = await withApplication(config, { io, access: 'write' }, async ({ accountAdmin, secondFactor }) => {
    const found = await accountAdmin.findUserByUsername(username)
    if (!found) throw new CliError(`No user named ${username}.`)
    try {
      return await secondFactor.resetUser(found.id, actor)
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'not_found') throw new CliError(`No user named ${username}.`)
      throw error
    }
  })
  io.stdout(
    values.json
      ? formatJson({
          username: result.user.username,
          id: result.user.id,
          removed_passkeys: result.removedPasskeys,
          sessions_ended: true,
        })
      : `Reset the second factor of ${result.user.username}: TOTP and recovery codes removed, ${result.removedPasskeys} passkeys removed, every session ended.\n`,
  )
  return exitCodes.success
}

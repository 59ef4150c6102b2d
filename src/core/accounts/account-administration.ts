/**
 * What administrators do to accounts beyond roles: lift a sign-in lock-out and import users
 * from another system.
 */
import type { Audit } from '../audit/audit.ts'
import { TesseraError } from '../errors.ts'
import type { RequestContext } from '../request-context.ts'
import type { SignInThrottle } from '../throttle/sign-in-throttle.ts'
import type { Accounts } from './accounts.ts'
import type { UserRecord } from './store.ts'
import type { ImportEntry, ImportResult, UserImport } from './import-users.ts'

/** Who does an administrative action, for the audit trail. */
export interface AdminActor {
  actorUserId: string | null
  context: RequestContext
}

export interface AccountAdministration {
  /** Imports users with existing hashes; each imported user is an audit event. */
  importUsers(entries: readonly ImportEntry[], actor: AdminActor): Promise<ImportResult[]>
  /**
   * Clears the sign-in failure counters of a user, wherever they came from; returns the user and
   * how many counters were cleared. Throws `not_found`.
   */
  unlockUser(userId: string, actor: AdminActor): Promise<{ user: UserRecord; clearedCounters: number }>
  /** The same, by username (the CLI). */
  unlockUsername(username: string, actor: AdminActor): Promise<{ user: UserRecord; clearedCounters: number }>
}

export function createAccountAdministration(deps: {
  accounts: Accounts
  throttle: SignInThrottle
  userImport: UserImport
  audit: Audit
}): AccountAdministration {
  const { accounts, throttle, userImport, audit } = deps

  async function unlock(user: UserRecord | null, actor: AdminActor) {
    if (!user) throw new TesseraError('not_found', 'No such user.')
    const clearedCounters = await throttle.unlockAccount(user.username)
    await audit.record({
      type: 'account_unlocked',
      outcome: 'success',
      reason: 'admin_action',
      actorUserId: actor.actorUserId,
      subjectUserId: user.id,
      username: user.username,
      details: { cleared_counters: clearedCounters },
      context: actor.context,
    })
    return { user, clearedCounters }
  }

  return {
    async importUsers(entries, actor) {
      const results = await userImport.importUsers(entries)
      for (const result of results) {
        if (result.outcome !== 'imported') continue
        await audit.record({
          type: 'user_imported',
          outcome: 'success',
          actorUserId: actor.actorUserId,
          subjectUserId: result.user.id,
          username: result.user.username,
          details: { roles: result.user.roles.join(',') },
          context: actor.context,
        })
      }
      return results
    },
    unlockUser: async (userId, actor) => unlock(await accounts.findUser(userId), actor),
    unlockUsername: async (username, actor) => unlock(await accounts.findUserByUsername(username), actor),
  }
}

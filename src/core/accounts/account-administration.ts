/**
 * What administrators do to accounts beyond roles: lift a sign-in lock-out and import users
 * from another system.
 */
import { TesseraError } from '../errors.ts'
import type { SignInThrottle } from '../throttle/sign-in-throttle.ts'
import type { Accounts } from './accounts.ts'
import type { UserRecord } from './store.ts'
import type { UserImport } from './import-users.ts'

export interface AccountAdministration extends UserImport {
  /**
   * Clears the sign-in failure counters of a user, wherever they came from; returns the user and
   * how many counters were cleared. Throws `not_found`.
   */
  unlockUser(userId: string): Promise<{ user: UserRecord; clearedCounters: number }>
  /** The same, by username (the CLI). */
  unlockUsername(username: string): Promise<{ user: UserRecord; clearedCounters: number }>
}

export function createAccountAdministration(deps: {
  accounts: Accounts
  throttle: SignInThrottle
  userImport: UserImport
}): AccountAdministration {
  const { accounts, throttle, userImport } = deps

  async function unlock(user: UserRecord | null) {
    if (!user) throw new TesseraError('not_found', 'No such user.')
    return { user, clearedCounters: await throttle.unlockAccount(user.username) }
  }

  return {
    importUsers: userImport.importUsers,
    unlockUser: async (userId) => unlock(await accounts.findUser(userId)),
    unlockUsername: async (username) => unlock(await accounts.findUserByUsername(username)),
  }
}

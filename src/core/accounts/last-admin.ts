/**
 * The last administrator is protected: taking the `admin` role from, disabling or deleting the
 * only enabled account that holds it would leave nobody able to administer Tessera through its
 * API (only the offline CLI could repair it). The check reads who holds the role through
 * `lockActiveRoleHolders`, inside the unit of work that makes the change, so the check and the
 * change are one step: of two demotions of the last two admins sent together, one waits for the
 * other and then sees it.
 */
import { TesseraError } from '../errors.ts'
import type { AccountStore, UserRecord } from './store.ts'

export const administratorRole = 'admin'

/** The enabled holders of the admin role, locked for the rest of the unit of work (at most two matter). */
export function lockAdministrators(accounts: Pick<AccountStore, 'lockActiveRoleHolders'>): Promise<string[]> {
  return accounts.lockActiveRoleHolders(administratorRole, 2)
}

/** True when `user` is the only enabled administrator among `administrators` (from `lockAdministrators`). */
export function isLastAdministrator(user: UserRecord, administrators: readonly string[]): boolean {
  return (
    user.disabledAt === null &&
    user.roles.includes(administratorRole) &&
    administrators.length === 1 &&
    administrators[0] === user.id
  )
}

export function refuseLastAdministrator(): TesseraError {
  return new TesseraError(
    'last_admin',
    'This is the last enabled administrator: give another account the admin role first.',
  )
}

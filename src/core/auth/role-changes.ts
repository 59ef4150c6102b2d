/**
 * Role changes: the new roles, one `role_granted` / `role_revoked` event per role, and the
 * user's cached sessions dropped, so the change applies on the user's next request.
 */
import type { Accounts } from '../accounts/accounts.ts'
import type { UserRecord } from '../accounts/store.ts'
import type { Audit, AuditEventInput } from '../audit/audit.ts'
import { TesseraError } from '../errors.ts'
import type { RequestContext } from '../request-context.ts'
import type { Sessions } from '../sessions/sessions.ts'

export interface RoleChanges {
  /** Replaces the user's roles; throws `not_found` or `validation_failed`. */
  replaceUserRoles(
    userId: string,
    roles: readonly string[],
    actor: { actorUserId: string | null; context: RequestContext },
  ): Promise<UserRecord>
}

export function createRoleChanges(deps: { accounts: Accounts; sessions: Sessions; audit: Audit }): RoleChanges {
  const { accounts, sessions, audit } = deps
  return {
    async replaceUserRoles(userId, roles, { actorUserId, context }) {
      const { updated } = await audit.recordChange(
        async () => {
          const before = await accounts.findUser(userId)
          if (!before) throw new TesseraError('not_found', 'No such user.')
          return { before, updated: await accounts.replaceRoles(userId, roles) }
        },
        ({ before, updated }): AuditEventInput[] => {
          const about = { outcome: 'success' as const, reason: 'admin_action' as const, actorUserId, subjectUserId: userId, username: updated.usernameKey, context }
          return [
            ...updated.roles.filter((role) => !before.roles.includes(role)).map((role) => ({ type: 'role_granted' as const, details: { role }, ...about })),
            ...before.roles.filter((role) => !updated.roles.includes(role)).map((role) => ({ type: 'role_revoked' as const, details: { role }, ...about })),
          ]
        },
      )
      sessions.forgetUser(userId)
      return updated
    },
  }
}

/**
 * An administrator may require a user to choose a new password (`PUT /v1/admin/users/{id}/password`).
 * Until they do, a session of theirs reaches only the routes below: who am I, change the
 * password (by the API or the hosted page), re-authenticate (a password change may need a
 * recent second factor), sign out.
 * Every other route answers `password_change_required`, checked once the caller is known (after
 * every route's `authenticate` and role check, before its handler).
 */
import type { FastifyInstance } from 'fastify'
import type { AccountLifecycleOperations } from '../../core/application/account-lifecycle.ts'

/** Routes open to a caller who must change the password first (method and route pattern). */
export const routesOpenBeforePasswordChange: ReadonlySet<string> = new Set([
  'GET /v1/me',
  'POST /v1/me/password',
  'POST /v1/auth/reauthenticate',
  'POST /v1/auth/reauthenticate/passkey-options',
  'POST /v1/auth/logout',
  // The hosted pages' equivalents: the password page, the step-up page before it, sign-out.
  'GET /account/password',
  'POST /account/password',
  'GET /account/reauthenticate',
  'POST /account/reauthenticate',
  'POST /logout',
])

export function registerPasswordChangePolicy(
  app: FastifyInstance,
  accountLifecycle: Pick<AccountLifecycleOperations, 'requireNoPendingPasswordChange'>,
): void {
  // A callback hook on every authenticated request: no promise, and the route is named only for
  // the rare account that has a pending change.
  app.addHook('preHandler', (request, _reply, done) => {
    const auth = request.auth
    if (!auth) return done()
    try {
      accountLifecycle.requireNoPendingPasswordChange(auth)
    } catch (error) {
      const route = `${request.method} ${request.routeOptions.url ?? ''}`.replace(/\/$/, '')
      if (!routesOpenBeforePasswordChange.has(route)) return done(error as Error)
    }
    done()
  })
}

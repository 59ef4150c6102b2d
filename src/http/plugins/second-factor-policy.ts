/**
 * Two rules of the second factor that apply across routes, checked once the caller is known
 * (after every route's `authenticate` and role check, before its handler):
 *
 * - TESSERA_MFA_REQUIRED_ROLES: a holder of such a role without a second factor reaches only
 *   the routes below (enrolment, re-authentication, who am I, sign-out) until it enrols; a
 *   session of theirs that did not use it is sent to re-authenticate.
 * - Step-up for admins: an unsafe admin request (`/v1/admin/…`, any method but GET and HEAD) by an
 *   admin with a second factor needs a recent authentication with it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SecondFactorOperations } from '../../core/application/second-factor.ts'
import { isUnsafeMethod } from '../cross-site.ts'

/** Routes open to a caller who must enrol first (method and route pattern). */
export const routesOpenBeforeEnrolment: ReadonlySet<string> = new Set([
  'GET /v1/me',
  'GET /v1/me/mfa',
  'POST /v1/me/mfa/totp',
  'POST /v1/me/mfa/totp/confirm',
  'POST /v1/auth/reauthenticate',
  'POST /v1/auth/reauthenticate/passkey-options',
  'POST /v1/auth/logout',
])

export function registerSecondFactorPolicy(app: FastifyInstance, secondFactor: SecondFactorOperations): void {
  app.addHook('preHandler', (request, _reply, done) => {
    const auth = request.auth
    // A callback hook: anonymous requests pass without a promise, and so do signed-in ones that
    // neither rule concerns (a safe method, and no role the policy binds).
    if (!auth || (!isUnsafeMethod(request.method) && !secondFactor.isBoundByRolePolicy(auth))) {
      done()
      return
    }
    enforce(request.method, request.routeOptions.url ?? '', auth).then(
      () => done(),
      (error: unknown) => done(error as Error),
    )
  })

  async function enforce(method: string, url: string, auth: NonNullable<FastifyRequest['auth']>): Promise<void> {
    const route = `${method} ${url}`.replace(/\/$/, '')
    if (!routesOpenBeforeEnrolment.has(route)) await secondFactor.enforceRolePolicy(auth)
    if (isUnsafeMethod(method) && url.startsWith('/v1/admin/')) {
      await secondFactor.requireRecentSecondFactor(auth)
    }
  }
}

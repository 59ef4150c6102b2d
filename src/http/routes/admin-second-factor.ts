/** Administration of users' second factors: see it, reset it. Every route needs the `admin` role. */
import type { FastifyInstance } from 'fastify'
import type { AccountAdministration } from '../../core/application/account-admin.ts'
import type { SecondFactorOperations } from '../../core/application/second-factor.ts'
import { requireAuth, requireRole } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, problemResponses, userReferenceParams } from '../schemas/shared.ts'
import { viewUser } from '../views.ts'
import { secondFactorStatusSchema, viewSecondFactorStatus } from './my-second-factor.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

export interface AdminSecondFactorRouteDeps extends AuthenticatedRouteDeps {
  secondFactor: SecondFactorOperations
  accountAdmin: AccountAdministration
}

export async function adminSecondFactorRoutes(app: FastifyInstance, deps: AdminSecondFactorRouteDeps): Promise<void> {
  const { secondFactor, accountAdmin, authenticate } = deps
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireRole('admin'))

  app.get<{ Params: { id: string } }>(
    '/users/:id/mfa',
    {
      schema: {
        summary: "A user's second factor",
        operationId: 'getUserSecondFactor',
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        response: { 200: secondFactorStatusSchema, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) =>
      viewSecondFactorStatus(await secondFactor.describeUser((await accountAdmin.resolveUser(request.params.id)).id)),
  )

  app.delete<{ Params: { id: string } }>(
    '/users/:id/mfa',
    {
      schema: {
        summary: "Reset a user's second factor",
        operationId: 'resetUserSecondFactor',
        description:
          'Removes the TOTP secret, the recovery codes and every passkey, and ends every session of the user: the next sign-in is by password alone (then enrol again). Audited as `mfa_reset`.',
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        response: {
          200: {
            type: 'object',
            properties: { user: { $ref: 'User#' }, removed_passkeys: { type: 'integer' } },
            required: ['user', 'removed_passkeys'],
          },
          ...problemResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request) => {
      const actor = { actorUserId: requireAuth(request).user.id, context: readClientContext(request) }
      const target = await accountAdmin.resolveUser(request.params.id)
      const { user, removedPasskeys } = await secondFactor.resetUser(target.id, actor)
      return { user: viewUser(user), removed_passkeys: removedPasskeys }
    },
  )
}

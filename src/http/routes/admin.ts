/** Administration: users and their roles. Every route needs the `admin` role. */
import type { FastifyInstance } from 'fastify'
import { requireAuth, requireRole } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, problemResponses } from '../schemas/shared.ts'
import { viewUser } from '../views.ts'
import type { AccountAdministration } from '../../core/application/account-admin.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

function encodeCursor(usernameKey: string): string {
  return Buffer.from(usernameKey, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string | undefined): string | null {
  return cursor === undefined ? null : Buffer.from(cursor, 'base64url').toString('utf8')
}

export interface AdminRouteDeps extends AuthenticatedRouteDeps {
  accountAdmin: AccountAdministration
}

export async function adminRoutes(app: FastifyInstance, deps: AdminRouteDeps): Promise<void> {
  const { accountAdmin, authenticate } = deps
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireRole('admin'))

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/users',
    {
      schema: {
        summary: 'List users',
        operationId: 'listUsers',
        tags: ['admin'],
        security: authSecurity,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            cursor: { type: 'string', maxLength: 512, pattern: '^[A-Za-z0-9_-]*$' },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              users: { type: 'array', items: { $ref: 'User#' } },
              next_cursor: { type: ['string', 'null'] },
            },
            required: ['users', 'next_cursor'],
          },
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      const page = await accountAdmin.listUsers({ after: decodeCursor(cursor), limit: limit + 1 })
      const users = page.slice(0, limit)
      const last = users.at(-1)
      return {
        users: users.map(viewUser),
        next_cursor: page.length > limit && last ? encodeCursor(last.usernameKey) : null,
      }
    },
  )

  app.put<{ Params: { id: string }; Body: { roles: string[] } }>(
    '/users/:id/roles',
    {
      schema: {
        summary: "Replace a user's roles",
        operationId: 'replaceUserRoles',
        description: 'Takes effect at once on Tessera: the user\'s sessions see the new roles on their next request.',
        tags: ['admin'],
        security: authSecurity,
        params: {
          type: 'object',
          properties: { id: { type: 'string', format: 'uuid' } },
          required: ['id'],
        },
        body: {
          type: 'object',
          properties: {
            roles: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 32 } },
          },
          required: ['roles'],
          additionalProperties: false,
        },
        response: { 200: { $ref: 'User#' }, ...problemResponses(400, 401, 403, 404, 413, 415) },
      },
    },
    async (request) => {
      const actor = { actorUserId: requireAuth(request).user.id, context: readClientContext(request) }
      return viewUser(await accountAdmin.replaceUserRoles(request.params.id, request.body.roles, actor))
    },
  )
}

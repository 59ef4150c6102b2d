/** Administration: users and their roles. Every route needs the `admin` role. */
import type { FastifyInstance } from 'fastify'
import { requireAuth, requireRole } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, problemResponses, userReferenceParams } from '../schemas/shared.ts'
import { viewUser } from '../views.ts'
import type { EmailOperations } from '../../core/application/email.ts'
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
  email: Pick<EmailOperations, 'findUsersByEmailPrefix'>
}

export async function adminRoutes(app: FastifyInstance, deps: AdminRouteDeps): Promise<void> {
  const { accountAdmin, email, authenticate } = deps
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireRole('admin'))

  app.get<{ Querystring: { limit: number; cursor?: string; query?: string } }>(
    '/users',
    {
      schema: {
        summary: 'List or find users',
        operationId: 'listUsers',
        description:
          'Ordered by normalised username. `query` keeps the users whose normalised username (NFKC, case-folded) starts with the normalised query; the first page then also lists, after them, the users whose email address starts with it (the domain in any case).',
        tags: ['admin'],
        security: authSecurity,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            cursor: { type: 'string', maxLength: 512, pattern: '^[A-Za-z0-9_-]*$' },
            query: { type: 'string', minLength: 1, maxLength: 256 },
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
      const { limit, cursor, query } = request.query
      const after = decodeCursor(cursor)
      const page =
        query === undefined
          ? await accountAdmin.listUsers({ after, limit: limit + 1 })
          : await accountAdmin.searchUsers({ query, after, limit: limit + 1 })
      const users = page.slice(0, limit)
      const last = users.at(-1)
      // Email matches fill the first page only: the cursor walks usernames, and an address is
      // found by typing more of it, not by paging.
      if (query !== undefined && cursor === undefined && users.length < limit) {
        const listed = new Set(users.map((user) => user.id))
        for (const { user } of await email.findUsersByEmailPrefix(query, limit - users.length)) {
          if (!listed.has(user.id)) users.push(user)
        }
      }
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
        description:
          "Takes effect at once on Tessera: the user's sessions see the new roles on their next request. `{id}` is the user id or the username. Taking `admin` from the last enabled administrator is refused with `last_admin`.",
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        body: {
          type: 'object',
          properties: {
            roles: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 32 } },
          },
          required: ['roles'],
          additionalProperties: false,
        },
        response: { 200: { $ref: 'User#' }, ...problemResponses(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (request) => {
      const actor = { actorUserId: requireAuth(request).user.id, context: readClientContext(request) }
      const user = await accountAdmin.resolveUser(request.params.id)
      return viewUser(await accountAdmin.replaceUserRoles(user.id, request.body.roles, actor))
    },
  )
}

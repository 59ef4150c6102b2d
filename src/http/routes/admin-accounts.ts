/**
 * Administration of accounts beyond roles: lifting a sign-in lock-out, and importing users with
 * their existing (bcrypt or argon2id) password hashes. Every route needs the `admin` role.
 */
import type { FastifyInstance } from 'fastify'
import type { AccountAdministration } from '../../core/application/account-admin.ts'
import { maxImportBatch } from '../../core/application/types.ts'
import { requireAuth, requireRole } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, problemResponses, userReferenceParams, usernameField } from '../schemas/shared.ts'
import { viewUser } from '../views.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

interface ImportBody {
  users: Array<{ username: string; password_hash: string; roles?: string[] }>
}

/** Large enough for a full batch of entries with roles; imports are rare and admin-only. */
const importBodyLimitBytes = 1024 * 1024

export interface AdminAccountRouteDeps extends AuthenticatedRouteDeps {
  accountAdmin: AccountAdministration
}

export async function adminAccountRoutes(app: FastifyInstance, deps: AdminAccountRouteDeps): Promise<void> {
  const { accountAdmin, authenticate } = deps
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireRole('admin'))

  app.post<{ Params: { id: string } }>(
    '/users/:id/unlock',
    {
      schema: {
        summary: "Lift a user's sign-in lock-out",
        operationId: 'unlockUser',
        description:
          'Clears the failure counters of the username, from every address, so the next sign-in is verified at once.',
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        response: {
          200: {
            type: 'object',
            properties: { user: { $ref: 'User#' }, cleared_counters: { type: 'integer' } },
            required: ['user', 'cleared_counters'],
          },
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const actor = { actorUserId: requireAuth(request).user.id, context: readClientContext(request) }
      const target = await accountAdmin.resolveUser(request.params.id)
      const { user, clearedCounters } = await accountAdmin.unlockUser(target.id, actor)
      return { user: viewUser(user), cleared_counters: clearedCounters }
    },
  )

  app.post<{ Body: ImportBody }>(
    '/users/import',
    {
      bodyLimit: importBodyLimitBytes,
      schema: {
        summary: 'Import users with existing password hashes',
        operationId: 'importUsers',
        description:
          'bcrypt ($2a$, $2b$, $2y$) or argon2id hashes. Idempotent: an existing username is left untouched (`exists`). Each entry succeeds or fails on its own; a bcrypt hash becomes argon2id at the first sign-in.',
        tags: ['admin'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: {
            users: {
              type: 'array',
              maxItems: maxImportBatch,
              items: {
                type: 'object',
                properties: {
                  username: usernameField,
                  password_hash: { type: 'string', minLength: 1, maxLength: 512 },
                  roles: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 32 } },
                },
                required: ['username', 'password_hash'],
                additionalProperties: false,
              },
            },
          },
          required: ['users'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              imported: { type: 'integer' },
              existing: { type: 'integer' },
              failed: { type: 'integer' },
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    index: { type: 'integer' },
                    outcome: { type: 'string', enum: ['imported', 'exists', 'failed'] },
                    user: { $ref: 'User#' },
                    code: { type: 'string' },
                    message: { type: 'string' },
                  },
                  required: ['index', 'outcome'],
                },
              },
            },
            required: ['imported', 'existing', 'failed', 'results'],
          },
          ...problemResponses(400, 401, 403, 413, 415),
        },
      },
    },
    async (request) => {
      const results = await accountAdmin.importUsers(
        request.body.users.map((entry) => ({
          username: entry.username,
          passwordHash: entry.password_hash,
          roles: entry.roles,
        })),
        { actorUserId: requireAuth(request).user.id, context: readClientContext(request) },
      )
      return {
        imported: results.filter((result) => result.outcome === 'imported').length,
        existing: results.filter((result) => result.outcome === 'exists').length,
        failed: results.filter((result) => result.outcome === 'failed').length,
        results: results.map((result, index) => {
          if (result.outcome === 'imported') return { index, outcome: result.outcome, user: viewUser(result.user) }
          if (result.outcome === 'exists') return { index, outcome: result.outcome }
          return { index, outcome: result.outcome, code: result.code, message: result.message }
        }),
      }
    },
  )
}

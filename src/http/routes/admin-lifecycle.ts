/**
 * Administration of an account's life: show a user, list and end their sessions (the kick),
 * disable and enable, delete, set a password or require a new one. `{id}` is the user id or the
 * username. Every route needs the `admin` role.
 */
import type { FastifyInstance } from 'fastify'
import type { AccountAdministration } from '../../core/application/account-admin.ts'
import { maxDisableNoteLength, type AccountLifecycleOperations } from '../../core/application/account-lifecycle.ts'
import type { PresenceOperations } from '../../core/application/presence.ts'
import { requireAuth, requireRole } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, passwordField, problemResponses, userReferenceParams } from '../schemas/shared.ts'
import { viewSession, viewUser } from '../views.ts'
import type { FastifyRequest } from 'fastify'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

export interface AdminLifecycleRouteDeps extends AuthenticatedRouteDeps {
  accountAdmin: AccountAdministration
  accountLifecycle: AccountLifecycleOperations
  presence: PresenceOperations
  idleTimeoutSeconds: number
}

type UserRequest = FastifyRequest<{ Params: { id: string } }>

function readActor(request: FastifyRequest) {
  return { actorUserId: requireAuth(request).user.id, context: readClientContext(request) }
}

const endedSessionsSchema = {
  type: 'object',
  properties: { user: { $ref: 'User#' }, ended_sessions: { type: 'integer' } },
  required: ['user', 'ended_sessions'],
} as const

export async function adminLifecycleRoutes(app: FastifyInstance, deps: AdminLifecycleRouteDeps): Promise<void> {
  const { accountAdmin, accountLifecycle, presence, idleTimeoutSeconds, authenticate } = deps
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireRole('admin'))

  const resolve = (request: UserRequest) => accountAdmin.resolveUser(request.params.id)

  app.get<{ Querystring: { active_within: number; limit: number } }>(
    '/presence',
    {
      schema: {
        summary: 'Who is online',
        operationId: 'getPresence',
        description:
          'Users with a live session, the most recently active first, each with its live sessions and last activity; and how many users were active within `active_within` seconds (default 300). Last activity moves at most once a minute per session. `truncated` says the server read its bound of sessions (5000) and the answer is partial.',
        tags: ['admin'],
        security: authSecurity,
        querystring: {
          type: 'object',
          properties: {
            active_within: { type: 'integer', minimum: 1, maximum: 86400, default: 300 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              active_users: { type: 'integer' },
              active_within: { type: 'integer' },
              truncated: { type: 'boolean' },
              users: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    user: { $ref: 'User#' },
                    last_seen_at: { type: 'string', format: 'date-time' },
                    sessions: { type: 'array', items: { $ref: 'Session#' } },
                  },
                  required: ['user', 'last_seen_at', 'sessions'],
                },
              },
            },
            required: ['active_users', 'active_within', 'truncated', 'users'],
          },
          ...problemResponses(400, 401, 403, 503),
        },
      },
    },
    async (request) => {
      const { active_within: activeWithinSeconds, limit } = request.query
      const found = await presence.describePresence({ activeWithinSeconds, limit })
      return {
        active_users: found.activeUserCount,
        active_within: found.activeWithinSeconds,
        truncated: found.isTruncated,
        users: found.users.map((online) => ({
          user: viewUser(online.user),
          last_seen_at: online.lastSeenAt.toISOString(),
          sessions: online.sessions.map((session) => viewSession(session, idleTimeoutSeconds, null)),
        })),
      }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/users/:id',
    {
      schema: {
        summary: 'Show a user',
        operationId: 'getUser',
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        response: { 200: { $ref: 'User#' }, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => viewUser(await resolve(request)),
  )

  app.get<{ Params: { id: string } }>(
    '/users/:id/sessions',
    {
      schema: {
        summary: "List a user's live sessions",
        operationId: 'listUserSessions',
        description:
          'Newest first, with their metadata (address, user agent, last activity); `id` is a handle, never a credential.',
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        response: {
          200: {
            type: 'object',
            properties: { user: { $ref: 'User#' }, sessions: { type: 'array', items: { $ref: 'Session#' } } },
            required: ['user', 'sessions'],
          },
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const user = await resolve(request)
      const sessions = await accountAdmin.listUserSessions(user.id)
      return {
        user: viewUser(user),
        sessions: sessions.map((session) => viewSession(session, idleTimeoutSeconds, null)),
      }
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/users/:id/sessions',
    {
      schema: {
        summary: "End all of a user's sessions",
        operationId: 'endUserSessions',
        description:
          'Ends every session and refresh-token family of the user at once, on every node; a sign-in afterwards works as before. Audited as `user_sessions_ended` with `session_end_reason` `kick`.',
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        response: { 200: endedSessionsSchema, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const user = await resolve(request)
      const ended = await accountLifecycle.endUserSessions(user.id, readActor(request))
      return { user: viewUser(ended.user), ended_sessions: ended.endedSessions }
    },
  )

  app.post<{ Params: { id: string }; Body: { reason?: string } }>(
    '/users/:id/disable',
    {
      schema: {
        summary: 'Disable a user',
        operationId: 'disableUser',
        description:
          'Ends every session of the user at once; its sign-in then gets the answer of a wrong password and its tokens are inactive at introspection. `reason` is kept in the audit trail (`user_disabled`). Refused with `last_admin` for the last enabled administrator. Idempotent.',
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        body: {
          type: 'object',
          properties: { reason: { type: 'string', maxLength: maxDisableNoteLength } },
          additionalProperties: false,
        },
        response: { 200: endedSessionsSchema, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request) => {
      const user = await resolve(request)
      const disabled = await accountLifecycle.disableUser(user.id, request.body?.reason ?? null, readActor(request))
      return { user: viewUser(disabled.user), ended_sessions: disabled.endedSessions }
    },
  )

  app.post<{ Params: { id: string } }>(
    '/users/:id/enable',
    {
      schema: {
        summary: 'Enable a disabled user',
        operationId: 'enableUser',
        description: 'The user can sign in again; sessions ended by the disable stay ended. Idempotent.',
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        response: { 200: { $ref: 'User#' }, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const user = await resolve(request)
      return viewUser(await accountLifecycle.enableUser(user.id, readActor(request)))
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/users/:id',
    {
      schema: {
        summary: 'Delete a user',
        operationId: 'deleteUser',
        description:
          'Deletes the account, its roles, sessions, refresh tokens, sign-in throttle records, second factor and passkeys. Its audit events stay under a pseudonym (`~` and a keyed digest). Refused with `last_admin` for the last enabled administrator.',
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const user = await resolve(request)
      await accountLifecycle.deleteUser(user.id, readActor(request))
      return reply.code(204).send()
    },
  )

  app.put<{ Params: { id: string }; Body: { password?: string; require_change?: boolean } }>(
    '/users/:id/password',
    {
      schema: {
        summary: "Set a user's password, or require a new one",
        operationId: 'setUserPassword',
        description:
          'With `password`: sets it (the password policy applies) and ends every session of the user; `require_change` (default true) makes the user choose a new one at the next sign-in. Without `password`: only sets or clears that requirement. Until the user changes it, every route but `POST /v1/me/password`, `GET /v1/me` and sign-out answers `password_change_required`.',
        tags: ['admin'],
        security: authSecurity,
        params: userReferenceParams,
        body: {
          type: 'object',
          properties: { password: passwordField, require_change: { type: 'boolean', default: true } },
          additionalProperties: false,
        },
        response: { 200: { $ref: 'User#' }, ...problemResponses(400, 401, 403, 404, 413, 415, 503) },
      },
    },
    async (request) => {
      const user = await resolve(request)
      const { password, require_change: isChangeRequired = true } = request.body ?? {}
      const updated = await accountLifecycle.setUserPassword(
        user.id,
        { password: password ?? null, isChangeRequired },
        readActor(request),
      )
      return viewUser(updated)
    },
  )
}

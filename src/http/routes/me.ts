/** The caller's own account. */
import type { FastifyInstance } from 'fastify'
import { requireAuth } from '../plugins/authenticate.ts'
import { authSecurity, passwordField, problemResponses } from '../schemas/shared.ts'
import { replyWithSignIn } from '../sign-in-reply.ts'
import { readClientContext } from '../request-context.ts'
import { viewUser } from '../views.ts'
import type { SignInOperations } from '../../core/application/sign-in.ts'
import type { AccountLifecycleOperations } from '../../core/application/account-lifecycle.ts'
import { clearSessionCookie } from '../session-cookie.ts'
import { authBodyLimitBytes, type AuthenticatedRouteDeps } from './route-deps.ts'

interface ChangePasswordBody {
  current_password: string
  new_password: string
}

export interface MeRouteDeps extends AuthenticatedRouteDeps {
  signIn: SignInOperations
  accountLifecycle: AccountLifecycleOperations
  /** The cookie's lifetime, for a password change on the cookie transport. */
  absoluteTimeoutSeconds: number
}

export async function meRoutes(app: FastifyInstance, deps: MeRouteDeps): Promise<void> {
  const { signIn: signInOperations, accountLifecycle, absoluteTimeoutSeconds, authenticate } = deps

  app.get(
    '/',
    {
      onRequest: authenticate,
      schema: {
        summary: 'The signed-in user',
        operationId: 'getMe',
        tags: ['account'],
        security: authSecurity,
        response: {
          200: {
            type: 'object',
            properties: { user: { $ref: 'User#' }, session_id: { type: 'string' } },
            required: ['user', 'session_id'],
          },
          ...problemResponses(400, 401),
        },
      },
    },
    async (request) => {
      const auth = requireAuth(request)
      return { user: viewUser(auth.user), session_id: auth.session.id }
    },
  )

  app.post<{ Body: ChangePasswordBody }>(
    '/password',
    {
      onRequest: authenticate,
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Change the password',
        operationId: 'changePassword',
        description:
          'Needs the current password. Ends every session of the user, the current one included, and answers with a new session on the transport this request used (a cookie, or a token pair for a bearer token).',
        tags: ['account'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: { current_password: passwordField, new_password: passwordField },
          required: ['current_password', 'new_password'],
          additionalProperties: false,
        },
        response: { 200: { $ref: 'SignIn#' }, ...problemResponses(400, 401, 403, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request)
      const signIn = await signInOperations.changePassword(auth, {
        currentPassword: request.body.current_password,
        newPassword: request.body.new_password,
        // The new session travels as this request did: a bearer token that names a cookie
        // session gets a token pair, not a cookie it may never see.
        transport: auth.transport,
        ...readClientContext(request),
      })
      return replyWithSignIn(reply, signIn, {
        createCsrfToken: signInOperations.createCsrfToken,
        absoluteTimeoutSeconds,
      })
    },
  )

  app.delete<{ Body: { password: string } }>(
    '/',
    {
      onRequest: authenticate,
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Delete my account',
        operationId: 'deleteMe',
        description:
          'Needs the current password and a recent authentication (`reauthentication_required` otherwise: POST /v1/auth/reauthenticate first). Deletes the account, its sessions, refresh tokens, second factor and passkeys; its audit events stay under a pseudonym. The last enabled administrator cannot delete itself (`last_admin`).',
        tags: ['account'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: { password: passwordField },
          required: ['password'],
          additionalProperties: false,
        },
        response: {
          204: { type: 'null', description: 'Deleted; the session cookie, if any, is cleared.' },
          ...problemResponses(400, 401, 403, 409, 413, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request)
      await accountLifecycle.deleteMyAccount(auth, request.body.password, readClientContext(request))
      if (auth.transport === 'cookie') clearSessionCookie(reply)
      return reply.code(204).send()
    },
  )
}

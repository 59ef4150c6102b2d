/** Registration, login, refresh and logout. */
import type { FastifyInstance } from 'fastify'
import { TesseraError } from '../../core/errors.ts'
import { classifyRequestSite } from '../cross-site.ts'
import { authSecurity, passwordField, problemResponses, usernameField } from '../schemas/shared.ts'
import { clearSessionCookie } from '../session-cookie.ts'
import { replyWithSignIn } from '../sign-in-reply.ts'
import { readClientContext } from '../request-context.ts'
import { viewTokenSignIn, viewUser } from '../views.ts'
import type { SignInOperations } from '../../core/application/sign-in.ts'
import { authBodyLimitBytes, type AuthenticatedRouteDeps } from './route-deps.ts'

interface Credentials {
  username: string
  password: string
}

interface LoginBody extends Credentials {
  mode?: 'token' | 'cookie'
}

const credentialsBody = {
  type: 'object',
  properties: { username: usernameField, password: passwordField },
  required: ['username', 'password'],
  additionalProperties: false,
} as const

export interface AuthRouteDeps extends AuthenticatedRouteDeps {
  signIn: SignInOperations
  /** The cookie's lifetime. */
  absoluteTimeoutSeconds: number
  /** Origins a cookie sign-in may come from. */
  allowedOrigins: readonly string[]
}

export async function authRoutes(app: FastifyInstance, deps: AuthRouteDeps): Promise<void> {
  const { signIn: signInOperations, absoluteTimeoutSeconds, allowedOrigins, authenticate } = deps

  app.post<{ Body: Credentials }>(
    '/register',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Create an account',
        operationId: 'register',
        security: [],
        tags: ['auth'],
        body: credentialsBody,
        response: { 201: { $ref: 'User#' }, ...problemResponses(400, 409, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const user = await signInOperations.register(request.body, readClientContext(request))
      return reply.code(201).send(viewUser(user))
    },
  )

  app.post<{ Body: LoginBody }>(
    '/login',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Sign in',
        operationId: 'signIn',
        security: [],
        description:
          '`mode: "token"` (default) returns an access token and a refresh token; `mode: "cookie"` sets the session cookie and returns no token.',
        tags: ['auth'],
        body: {
          ...credentialsBody,
          properties: { ...credentialsBody.properties, mode: { type: 'string', enum: ['token', 'cookie'] } },
        },
        response: { 200: { $ref: 'SignIn#' }, ...problemResponses(400, 401, 403, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const transport = request.body.mode ?? 'token'
      if (transport === 'cookie' && classifyRequestSite(request, allowedOrigins) === 'cross-site') {
        throw new TesseraError('csrf_rejected', 'Cookie sign-in must come from an allowed origin.')
      }
      const signIn = await signInOperations.signIn({
        username: request.body.username,
        password: request.body.password,
        transport,
        ...readClientContext(request),
      })
      return replyWithSignIn(reply, signIn, { createCsrfToken: signInOperations.createCsrfToken, absoluteTimeoutSeconds })
    },
  )

  app.post<{ Body: { refresh_token: string } }>(
    '/refresh',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Exchange a refresh token for a new token pair',
        operationId: 'refreshTokens',
        security: [],
        description:
          'The presented refresh token is replaced. A repeat within TESSERA_REFRESH_GRACE (a retry) gets the same new token; presenting a replaced one later ends the session.',
        tags: ['auth'],
        body: {
          type: 'object',
          properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 4096 } },
          required: ['refresh_token'],
          additionalProperties: false,
        },
        response: { 200: { $ref: 'SignIn#' }, ...problemResponses(400, 413, 415, 429) },
      },
    },
    async (request) =>
      viewTokenSignIn(await signInOperations.refresh(request.body.refresh_token, readClientContext(request))),
  )

  app.post(
    '/logout',
    {
      onRequest: authenticate,
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'End the current session',
        operationId: 'signOut',
        tags: ['auth'],
        security: authSecurity,
        response: { 204: { type: 'null' }, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const auth = request.auth
      if (auth) await signInOperations.signOut(auth, readClientContext(request))
      if (auth?.transport === 'cookie') clearSessionCookie(reply)
      return reply.code(204).send()
    },
  )
}

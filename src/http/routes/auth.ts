/** Registration, login, refresh, an access token for a cookie session, and logout. */
import type { FastifyInstance } from 'fastify'
import { TesseraError } from '../../core/errors.ts'
import { classifyRequestSite } from '../cross-site.ts'
import { requireAuth } from '../plugins/authenticate.ts'
import { authSecurity, passwordField, problemResponses, usernameField } from '../schemas/shared.ts'
import { clearSessionCookie } from '../session-cookie.ts'
import { replyWithSignIn } from '../sign-in-reply.ts'
import { readClientContext } from '../request-context.ts'
import { viewTokenSignIn, viewUser } from '../views.ts'
import type { SignInOperations } from '../../core/application/sign-in.ts'
import { authBodyLimitBytes, type AuthenticatedRouteDeps } from './route-deps.ts'
import { emailField } from './email.ts'
import { chooseMailLanguage } from '../../core/application/types.ts'

interface Credentials {
  username: string
  password: string
}

interface RegistrationBody extends Credentials {
  email?: string
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

  app.post<{ Body: RegistrationBody }>(
    '/register',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Create an account',
        operationId: 'register',
        description:
          'An optional `email` is stored unverified, and a verification mail goes to it in the language of Accept-Language (when the server sends mail). A taken username or address answers 409.',
        security: [],
        tags: ['auth'],
        body: { ...credentialsBody, properties: { ...credentialsBody.properties, email: emailField } },
        response: { 201: { $ref: 'User#' }, ...problemResponses(400, 409, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const { username, password, email } = request.body
      const language = chooseMailLanguage(request.headers['accept-language'])
      const user = await signInOperations.register(
        { username, password, ...(email === undefined ? {} : { email }), language },
        readClientContext(request),
      )
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
      return replyWithSignIn(reply, signIn, {
        createCsrfToken: signInOperations.createCsrfToken,
        absoluteTimeoutSeconds,
      })
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
    '/token',
    {
      onRequest: authenticate,
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'An access token for the cookie session',
        operationId: 'issueSessionAccessToken',
        description:
          "Authenticated by the session cookie, and checked like every unsafe cookie request (an allowed `Origin`, or the session's `X-CSRF-Token`). Answers an access token whose `sid` is the cookie session, so a page can hand its game client or API calls a bearer token without a second sign-in. No refresh token: ask again before it expires. When the session ends, Tessera refuses the token at once. A bearer token is refused (`cookie_session_required`).",
        tags: ['auth'],
        security: [{ cookie: [] }],
        response: {
          200: {
            type: 'object',
            properties: {
              access_token: { type: 'string' },
              token_type: { type: 'string', enum: ['Bearer'] },
              expires_in: { type: 'integer' },
              session_id: { type: 'string' },
            },
            required: ['access_token', 'token_type', 'expires_in', 'session_id'],
          },
          ...problemResponses(400, 401, 403, 503),
        },
      },
    },
    async (request) => {
      const auth = requireAuth(request)
      // The session the token names must have been proven by its cookie in this very request.
      if (auth.transport !== 'cookie') {
        throw new TesseraError('cookie_session_required', 'Send the session cookie; token sessions refresh instead.')
      }
      const issued = await signInOperations.issueSessionAccessToken(auth, readClientContext(request))
      return {
        access_token: issued.accessToken,
        token_type: 'Bearer' as const,
        expires_in: issued.expiresInSeconds,
        session_id: auth.session.id,
      }
    },
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

/**
 * The second step of a sign-in, re-authentication, and sign-in with a passkey alone (all under
 * /v1/auth). A sign-in answers on the transport chosen at the password step (a cookie, or a
 * token pair); a cookie can only be set for a request from an allowed origin, so cross-site
 * requests are refused here as on the login route.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { PasskeyOperations } from '../../core/application/passkeys.ts'
import type { SecondFactorProof, SecondFactorSignInOperations } from '../../core/application/second-factor-sign-in.ts'
import type { SignInOperations } from '../../core/application/sign-in.ts'
import { TesseraError } from '../../core/errors.ts'
import { classifyRequestSite } from '../cross-site.ts'
import { requireAuth } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, passwordField, problemResponses } from '../schemas/shared.ts'
import { publicKeyCredentialSchema, requestOptionsSchema } from '../schemas/webauthn.ts'
import { replyWithSignIn } from '../sign-in-reply.ts'
import { authBodyLimitBytes, type AuthenticatedRouteDeps } from './route-deps.ts'

interface ProofBody {
  code?: string
  recovery_code?: string
  passkey?: unknown
}

const proofProperties = {
  code: { type: 'string', minLength: 1, maxLength: 16, description: 'A TOTP code from the authenticator app.' },
  recovery_code: { type: 'string', minLength: 1, maxLength: 64, description: 'One of the recovery codes (used once).' },
  passkey: {
    ...publicKeyCredentialSchema,
    description: 'A passkey assertion, for options from the matching `passkey-options` route.',
  },
} as const

const challengeField = { type: 'string', minLength: 1, maxLength: 128 } as const

/** The one proof a body carries; validation_failed for none or several (null when optional and absent). */
function readProof(body: ProofBody, isRequired: boolean): SecondFactorProof | null {
  const proofs: SecondFactorProof[] = []
  if (body.code !== undefined) proofs.push({ kind: 'totp', code: body.code })
  if (body.recovery_code !== undefined) proofs.push({ kind: 'recovery_code', code: body.recovery_code })
  if (body.passkey !== undefined) proofs.push({ kind: 'passkey', response: body.passkey })
  if (proofs.length > 1 || (isRequired && proofs.length === 0)) {
    throw new TesseraError('validation_failed', 'Send exactly one of code, recovery_code and passkey.')
  }
  return proofs[0] ?? null
}

export interface SecondFactorAuthRouteDeps extends AuthenticatedRouteDeps {
  signIn: SignInOperations
  mfaSignIn: SecondFactorSignInOperations
  passkeys: PasskeyOperations
  absoluteTimeoutSeconds: number
  allowedOrigins: readonly string[]
}

const signInResponses = { 200: { $ref: 'SignIn#' }, ...problemResponses(400, 401, 403, 413, 415, 429, 503) }

export async function secondFactorAuthRoutes(app: FastifyInstance, deps: SecondFactorAuthRouteDeps): Promise<void> {
  const { signIn, mfaSignIn, passkeys, absoluteTimeoutSeconds, allowedOrigins, authenticate } = deps
  const replyDeps = { createCsrfToken: signIn.createCsrfToken, absoluteTimeoutSeconds }

  function refuseCrossSite(request: FastifyRequest): void {
    if (classifyRequestSite(request, allowedOrigins) === 'cross-site') {
      throw new TesseraError('csrf_rejected', 'Sign-in must come from an allowed origin.')
    }
  }

  app.post<{ Body: ProofBody & { challenge: string } }>(
    '/mfa',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Complete a sign-in with the second factor',
        operationId: 'completeSecondFactorSignIn',
        description:
          'After `POST /v1/auth/login` answered `mfa_required`: the `mfa_challenge` and one proof (a TOTP code, a recovery code or a passkey assertion). Answers like the login, on the transport chosen there. A challenge lasts 5 minutes and allows 5 checks; each wrong proof also counts in the sign-in throttle of the account and the network.',
        tags: ['auth'],
        security: [],
        body: {
          type: 'object',
          properties: { challenge: challengeField, ...proofProperties },
          required: ['challenge'],
          additionalProperties: false,
        },
        response: signInResponses,
      },
    },
    async (request, reply) => {
      refuseCrossSite(request)
      const proof = readProof(request.body, true)
      if (!proof) throw new TypeError('a required proof is missing')
      const completed = await mfaSignIn.completeSignIn({
        challenge: request.body.challenge,
        proof,
        ...readClientContext(request),
      })
      return replyWithSignIn(reply, completed, replyDeps)
    },
  )

  app.post<{ Body: { challenge: string } }>(
    '/mfa/passkey-options',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Passkey options for the second step of a sign-in',
        operationId: 'createSecondFactorPasskeyOptions',
        description:
          "Request options listing the account's passkeys, for `navigator.credentials.get()`; the assertion then goes to `POST /v1/auth/mfa` as `passkey`.",
        tags: ['auth'],
        security: [],
        body: {
          type: 'object',
          properties: { challenge: challengeField },
          required: ['challenge'],
          additionalProperties: false,
        },
        response: { 200: requestOptionsSchema, ...problemResponses(400, 401, 413, 415, 503) },
      },
    },
    async (request) => mfaSignIn.createSecondStepPasskeyOptions(request.body.challenge),
  )

  app.post<{ Body: ProofBody & { password?: string } }>(
    '/reauthenticate',
    {
      onRequest: authenticate,
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Re-authenticate the current session',
        operationId: 'reauthenticate',
        description:
          "Renews the session's authentication time and methods (`auth_time`, `amr`) without a new session, for operations that answer `reauthentication_required`. An account without a second factor sends its password (or a passkey); an account with one sends a second factor (the password may come too). A bearer caller gets a new access token carrying the new claims.",
        tags: ['auth'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: { password: passwordField, ...proofProperties },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              session_id: { type: 'string' },
              authenticated_at: { type: 'string', format: 'date-time' },
              amr: { type: 'array', items: { type: 'string' } },
              access_token: { type: 'string' },
              token_type: { type: 'string', enum: ['Bearer'] },
              expires_in: { type: 'integer' },
            },
            required: ['session_id', 'authenticated_at', 'amr'],
          },
          ...problemResponses(400, 401, 403, 413, 415, 429, 503),
        },
      },
    },
    async (request) => {
      const auth = requireAuth(request)
      const proof = readProof(request.body, false)
      const renewed = await mfaSignIn.reauthenticate(auth, {
        ...(request.body.password === undefined ? {} : { password: request.body.password }),
        ...(proof ? { proof } : {}),
        ...readClientContext(request),
      })
      return {
        session_id: renewed.session.id,
        authenticated_at: renewed.session.authenticatedAt.toISOString(),
        amr: renewed.session.amr,
        ...(renewed.accessToken
          ? {
              access_token: renewed.accessToken.accessToken,
              token_type: 'Bearer' as const,
              expires_in: renewed.accessToken.expiresInSeconds,
            }
          : {}),
      }
    },
  )

  app.post(
    '/reauthenticate/passkey-options',
    {
      onRequest: authenticate,
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Passkey options for a re-authentication',
        operationId: 'createReauthenticationPasskeyOptions',
        tags: ['auth'],
        security: authSecurity,
        response: { 200: requestOptionsSchema, ...problemResponses(400, 401, 403, 503) },
      },
    },
    async (request) => mfaSignIn.createReauthenticationPasskeyOptions(requireAuth(request)),
  )

  app.post(
    '/passkey/options',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Passkey options for a sign-in without a username',
        operationId: 'createPasskeySignInOptions',
        description:
          'Request options with no credential list: the browser offers the discoverable passkeys it holds for this RP. User verification is required.',
        tags: ['auth'],
        security: [],
        response: { 200: requestOptionsSchema, ...problemResponses(400, 413, 415, 503) },
      },
    },
    async () => passkeys.createSignInOptions(),
  )

  app.post<{ Body: { credential: unknown; mode?: 'token' | 'cookie' } }>(
    '/passkey',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Sign in with a passkey',
        operationId: 'signInWithPasskey',
        description:
          'The assertion for options from `POST /v1/auth/passkey/options`. A passkey that verified its user is a full (multi-factor) sign-in: `amr` is `hwk` or `swk`, `user` and `mfa`. `mode` as for the login. Any assertion that does not verify answers `invalid_credentials`.',
        tags: ['auth'],
        security: [],
        body: {
          type: 'object',
          properties: { credential: publicKeyCredentialSchema, mode: { type: 'string', enum: ['token', 'cookie'] } },
          required: ['credential'],
          additionalProperties: false,
        },
        response: signInResponses,
      },
    },
    async (request, reply) => {
      const transport = request.body.mode ?? 'token'
      if (transport === 'cookie') refuseCrossSite(request)
      const signedIn = await passkeys.signInWithPasskey({
        response: request.body.credential,
        transport,
        ...readClientContext(request),
      })
      return replyWithSignIn(reply, signedIn, replyDeps)
    },
  )
}

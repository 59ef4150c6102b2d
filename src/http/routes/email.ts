/**
 * Email: the caller's address and its verification, password reset by email, and the
 * operator's view of an account's address. The reset request answers 202 with the same body
 * for every input: whether an account matches is decided after the answer (see
 * core/application/email.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { EmailOperations, EmailView } from '../../core/application/email.ts'
import { chooseMailLanguage } from '../../core/application/types.ts'
import { requireAuth, requireRole } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, passwordField, problemResponses, usernameField } from '../schemas/shared.ts'
import { authBodyLimitBytes, type AuthenticatedRouteDeps } from './route-deps.ts'

export interface EmailRouteDeps extends AuthenticatedRouteDeps {
  email: EmailOperations
}

/** Bounds input only; the domain decides what an address is (core/email/address.ts). */
export const emailField = { type: 'string', minLength: 3, maxLength: 320 } as const
const tokenField = { type: 'string', minLength: 1, maxLength: 256 } as const

const emailSchema = {
  type: ['object', 'null'],
  description: "The account's address, or null when it has none.",
  properties: {
    address: { type: 'string' },
    verified: { type: 'boolean' },
    verified_at: { type: ['string', 'null'], format: 'date-time' },
  },
  required: ['address', 'verified', 'verified_at'],
} as const

const emailAnswer = {
  type: 'object',
  properties: { email: emailSchema },
  required: ['email'],
} as const

const acceptedAnswer = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['accepted'] }, detail: { type: 'string' } },
  required: ['status', 'detail'],
} as const

function viewEmail(email: EmailView | null) {
  if (!email) return { email: null }
  return {
    email: {
      address: email.address,
      verified: email.verifiedAt !== null,
      verified_at: email.verifiedAt?.toISOString() ?? null,
    },
  }
}

function readLanguage(request: FastifyRequest) {
  return chooseMailLanguage(request.headers['accept-language'])
}

const resetAccepted = {
  status: 'accepted' as const,
  detail: 'If an account with a verified email address matches, a mail with a link is on its way. The link works once.',
}

/** Under /v1/auth: the reset request and its confirmation (no session needed). */
export async function passwordResetRoutes(app: FastifyInstance, deps: Pick<EmailRouteDeps, 'email'>): Promise<void> {
  const { email } = deps

  app.post<{ Body: { username?: string; email?: string } }>(
    '/password-reset',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Ask for a password-reset mail',
        operationId: 'requestPasswordReset',
        description:
          "Names the account by `username` or by `email` (one of them). Answers 202 with the same body at once, whether or not an account matches; a mail goes to the account's verified address, in the language of Accept-Language (English or Korean). `mail_disabled` (404: the route is off) when the server sends no mail.",
        tags: ['auth'],
        security: [],
        body: {
          type: 'object',
          properties: { username: usernameField, email: emailField },
          minProperties: 1,
          maxProperties: 1,
          additionalProperties: false,
        },
        response: { 202: acceptedAnswer, ...problemResponses(400, 404, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const { username, email: address } = request.body
      email.requestPasswordReset(
        {
          ...(username === undefined ? {} : { username }),
          ...(address === undefined ? {} : { email: address }),
          language: readLanguage(request),
        },
        readClientContext(request),
      )
      return reply.code(202).send(resetAccepted)
    },
  )

  app.post<{ Body: { token: string; new_password: string } }>(
    '/password-reset/confirm',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Set a new password with a reset token',
        operationId: 'confirmPasswordReset',
        description:
          'The token from the mailed link (after `#token=`). It works once, within TESSERA_PASSWORD_RESET_TTL, and only while the password is the one it was issued under. The new password follows the registration rules. Every session of the account ends; sign in again.',
        tags: ['auth'],
        security: [],
        body: {
          type: 'object',
          properties: { token: tokenField, new_password: passwordField },
          required: ['token', 'new_password'],
          additionalProperties: false,
        },
        response: { 204: { type: 'null' }, ...problemResponses(400, 404, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      await email.confirmPasswordReset(
        { token: request.body.token, newPassword: request.body.new_password },
        readClientContext(request),
      )
      return reply.code(204).send()
    },
  )
}

/** Under /v1/me/email: the caller's own address. */
export async function myEmailRoutes(app: FastifyInstance, deps: EmailRouteDeps): Promise<void> {
  const { email, authenticate } = deps

  app.get(
    '/',
    {
      onRequest: authenticate,
      schema: {
        summary: 'My email address',
        operationId: 'getMyEmail',
        tags: ['account'],
        security: authSecurity,
        response: { 200: emailAnswer, ...problemResponses(400, 401) },
      },
    },
    async (request) => viewEmail(await email.getMyEmail(requireAuth(request))),
  )

  app.put<{ Body: { email: string; password: string } }>(
    '/',
    {
      onRequest: authenticate,
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Set my email address',
        operationId: 'setMyEmail',
        description:
          'Needs a recent authentication (`reauthentication_required` otherwise) and the password. A new address is unverified, and a verification mail goes to it (when the server sends mail).',
        tags: ['account'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: { email: emailField, password: passwordField },
          required: ['email', 'password'],
          additionalProperties: false,
        },
        response: { 200: emailAnswer, ...problemResponses(400, 401, 403, 409, 413, 415, 429, 503) },
      },
    },
    async (request) => {
      const auth = requireAuth(request)
      const view = await email.changeMyEmail(auth, {
        email: request.body.email,
        password: request.body.password,
        language: readLanguage(request),
        ...readClientContext(request),
      })
      return viewEmail(view)
    },
  )

  app.post(
    '/verification',
    {
      onRequest: authenticate,
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Send a new verification mail',
        operationId: 'sendEmailVerification',
        description: 'Replaces any earlier link. Nothing is sent for an address verified already.',
        tags: ['account'],
        security: authSecurity,
        response: { 202: acceptedAnswer, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await email.sendVerificationMail(requireAuth(request))
      return reply.code(202).send({ status: 'accepted' as const, detail: 'A verification mail is on its way.' })
    },
  )

  app.post<{ Body: { token: string } }>(
    '/verify',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Verify an email address with its token',
        operationId: 'verifyEmail',
        description:
          'The token from the mailed link (after `#token=`) proves the address; no session is needed (the link may be opened on another device). It works once, and only while the account still has that address.',
        tags: ['account'],
        security: [],
        body: {
          type: 'object',
          properties: { token: tokenField },
          required: ['token'],
          additionalProperties: false,
        },
        response: { 200: emailAnswer, ...problemResponses(400, 404, 413, 415, 429, 503) },
      },
    },
    async (request) => viewEmail(await email.verifyEmail(request.body.token, readClientContext(request))),
  )
}

/** Under /v1/admin: an account's address as an operator sees and sets it. */
export async function adminEmailRoutes(app: FastifyInstance, deps: EmailRouteDeps): Promise<void> {
  const { email, authenticate } = deps
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireRole('admin'))
  const params = { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] } as const

  app.get<{ Params: { id: string } }>(
    '/users/:id/email',
    {
      schema: {
        summary: "A user's email address",
        operationId: 'getUserEmail',
        tags: ['admin'],
        security: authSecurity,
        params,
        response: { 200: emailAnswer, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => viewEmail(await email.findUserEmail(request.params.id)),
  )

  app.put<{ Params: { id: string }; Body: { email: string; verified?: boolean } }>(
    '/users/:id/email',
    {
      schema: {
        summary: "Set a user's email address",
        operationId: 'setUserEmail',
        description:
          '`verified: true` when the operator vouches for the address (no verification mail); otherwise it is unverified and a verification mail goes to it.',
        tags: ['admin'],
        security: authSecurity,
        params,
        body: {
          type: 'object',
          properties: { email: emailField, verified: { type: 'boolean' } },
          required: ['email'],
          additionalProperties: false,
        },
        response: { 200: emailAnswer, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const actor = { actorUserId: requireAuth(request).user.id, context: readClientContext(request) }
      return viewEmail(
        await email.setUserEmail(
          request.params.id,
          { email: request.body.email, verified: request.body.verified ?? false },
          actor,
        ),
      )
    },
  )
}

/**
 * The caller's second factor (under /v1/me/mfa): its status, TOTP enrolment with the secret shown
 * once as an otpauth URI and a QR code, confirmation with the first code (which hands out the
 * recovery codes, once), removal, and a new set of recovery codes.
 */
import { renderQrCodeDataUrl } from '../qr-code.ts'
import type { FastifyInstance } from 'fastify'
import type { SecondFactorOperations, SecondFactorStatus } from '../../core/application/second-factor.ts'
import { requireAuth } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, problemResponses } from '../schemas/shared.ts'
import { authBodyLimitBytes, type AuthenticatedRouteDeps } from './route-deps.ts'

/** Loaded at the first enrolment, not at every start. */

export const secondFactorStatusSchema = {
  type: 'object',
  properties: {
    enabled: { type: 'boolean', description: 'A confirmed TOTP authenticator: password sign-ins need a second step.' },
    enabled_at: { type: ['string', 'null'], format: 'date-time' },
    recovery_codes_left: { type: 'integer' },
    passkeys: { type: 'integer' },
    required: {
      type: 'boolean',
      description: 'A role of the account requires a second factor (TESSERA_MFA_REQUIRED_ROLES).',
    },
  },
  required: ['enabled', 'enabled_at', 'recovery_codes_left', 'passkeys', 'required'],
} as const

export function viewSecondFactorStatus(status: SecondFactorStatus) {
  return {
    enabled: status.isEnabled,
    enabled_at: status.enabledAt?.toISOString() ?? null,
    recovery_codes_left: status.recoveryCodesLeft,
    passkeys: status.passkeyCount,
    required: status.isRequired,
  }
}

const recoveryCodesSchema = {
  type: 'object',
  properties: {
    recovery_codes: {
      type: 'array',
      items: { type: 'string' },
      description: 'Ten single-use codes, shown this once: the user keeps them somewhere safe.',
    },
  },
  required: ['recovery_codes'],
} as const

export interface MySecondFactorRouteDeps extends AuthenticatedRouteDeps {
  secondFactor: SecondFactorOperations
}

export async function mySecondFactorRoutes(app: FastifyInstance, deps: MySecondFactorRouteDeps): Promise<void> {
  const { secondFactor, authenticate } = deps
  app.addHook('onRequest', authenticate)

  app.get(
    '/',
    {
      schema: {
        summary: "The caller's second factor",
        operationId: 'getMySecondFactor',
        tags: ['account'],
        security: authSecurity,
        response: { 200: secondFactorStatusSchema, ...problemResponses(400, 401, 503) },
      },
    },
    async (request) => viewSecondFactorStatus(await secondFactor.getStatus(requireAuth(request))),
  )

  app.post(
    '/totp',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Start TOTP enrolment',
        operationId: 'startTotpEnrolment',
        description:
          'A new secret, shown this once: as base32, as an `otpauth://` URI and as a QR code (a PNG data URL) for the authenticator app. Nothing changes until `POST /v1/me/mfa/totp/confirm` with a code from the app, within `expires_in` seconds. Needs a recent authentication (`reauthentication_required`).',
        tags: ['account'],
        security: authSecurity,
        response: {
          200: {
            type: 'object',
            properties: {
              secret: { type: 'string' },
              otpauth_uri: { type: 'string' },
              qr_code: { type: 'string', description: 'data:image/png;base64,… of the otpauth URI.' },
              algorithm: { type: 'string', enum: ['SHA1', 'SHA256', 'SHA512'] },
              digits: { type: 'integer' },
              period: { type: 'integer' },
              expires_in: { type: 'integer' },
            },
            required: ['secret', 'otpauth_uri', 'qr_code', 'algorithm', 'digits', 'period', 'expires_in'],
          },
          ...problemResponses(400, 401, 403, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const enrolment = await secondFactor.startTotpEnrolment(requireAuth(request), readClientContext(request))
      // The secret is in this answer: no cache may keep it (the API's no-store covers /v1/me too).
      reply.header('cache-control', 'no-store')
      return {
        secret: enrolment.secret,
        otpauth_uri: enrolment.otpauthUri,
        qr_code: await renderQrCodeDataUrl(enrolment.otpauthUri),
        algorithm: enrolment.algorithm,
        digits: enrolment.digits,
        period: enrolment.periodSeconds,
        expires_in: enrolment.expiresInSeconds,
      }
    },
  )

  app.post<{ Body: { code: string } }>(
    '/totp/confirm',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Confirm TOTP enrolment with a code',
        operationId: 'confirmTotpEnrolment',
        description:
          'Turns the second factor on with the first code from the app, and answers the recovery codes (shown this once). The current session counts as authenticated with the second factor from now on.',
        tags: ['account'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: { code: { type: 'string', minLength: 1, maxLength: 16 } },
          required: ['code'],
          additionalProperties: false,
        },
        response: { 200: recoveryCodesSchema, ...problemResponses(400, 401, 403, 404, 413, 415, 429, 503) },
      },
    },
    async (request) => {
      const { recoveryCodes } = await secondFactor.confirmTotpEnrolment(
        requireAuth(request),
        request.body.code,
        readClientContext(request),
      )
      return { recovery_codes: recoveryCodes }
    },
  )

  app.delete(
    '/totp',
    {
      schema: {
        summary: 'Turn the second factor off',
        operationId: 'disableTotp',
        description:
          'Removes the TOTP secret and the recovery codes. Needs a recent authentication with the second factor.',
        tags: ['account'],
        security: authSecurity,
        response: { 204: { type: 'null' }, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      await secondFactor.disable(requireAuth(request), readClientContext(request))
      return reply.code(204).send()
    },
  )

  app.post(
    '/recovery-codes',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Replace the recovery codes',
        operationId: 'regenerateRecoveryCodes',
        description:
          'Ten new codes; every earlier one stops working at once. Needs a recent authentication with the second factor.',
        tags: ['account'],
        security: authSecurity,
        response: { 200: recoveryCodesSchema, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => ({
      recovery_codes: await secondFactor.regenerateRecoveryCodes(requireAuth(request), readClientContext(request)),
    }),
  )
}

/** The caller's passkeys (under /v1/me/passkeys): register, list, rename, remove. */
import type { FastifyInstance } from 'fastify'
import type { PasskeyOperations, PasskeyRecord } from '../../core/application/passkeys.ts'
import { requireAuth } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, problemResponses } from '../schemas/shared.ts'
import { creationOptionsSchema, publicKeyCredentialSchema } from '../schemas/webauthn.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

const passkeySchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The credential id (base64url).' },
    name: { type: 'string' },
    backup_eligible: {
      type: 'boolean',
      description: 'Synced between devices (its `amr` is `swk`; a device-bound one gives `hwk`).',
    },
    transports: { type: 'array', items: { type: 'string' } },
    created_at: { type: 'string', format: 'date-time' },
    last_used_at: { type: ['string', 'null'], format: 'date-time' },
  },
  required: ['id', 'name', 'backup_eligible', 'transports', 'created_at', 'last_used_at'],
} as const

const nameField = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f]*$' } as const
const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 1366, pattern: '^[A-Za-z0-9_-]+$' } },
  required: ['id'],
} as const

function viewPasskey(passkey: PasskeyRecord) {
  return {
    id: passkey.id,
    name: passkey.name,
    backup_eligible: passkey.isBackupEligible,
    transports: passkey.transports,
    created_at: passkey.createdAt.toISOString(),
    last_used_at: passkey.lastUsedAt?.toISOString() ?? null,
  }
}

/** Registration bodies carry an attestation object; 64 KiB is far above any real one. */
const registrationBodyLimitBytes = 64 * 1024

export interface MyPasskeyRouteDeps extends AuthenticatedRouteDeps {
  passkeys: PasskeyOperations
}

export async function myPasskeyRoutes(app: FastifyInstance, deps: MyPasskeyRouteDeps): Promise<void> {
  const { passkeys, authenticate } = deps
  app.addHook('onRequest', authenticate)

  app.get(
    '/',
    {
      schema: {
        summary: "The caller's passkeys",
        operationId: 'listMyPasskeys',
        tags: ['account'],
        security: authSecurity,
        response: {
          200: {
            type: 'object',
            properties: { passkeys: { type: 'array', items: passkeySchema } },
            required: ['passkeys'],
          },
          ...problemResponses(400, 401, 503),
        },
      },
    },
    async (request) => ({ passkeys: (await passkeys.listMyPasskeys(requireAuth(request))).map(viewPasskey) }),
  )

  app.post(
    '/options',
    {
      schema: {
        summary: 'Options to create a passkey',
        operationId: 'createPasskeyRegistrationOptions',
        description:
          'Creation options for `navigator.credentials.create()` (a discoverable credential, user verification preferred, attestation "none"); valid 5 minutes, once. Needs a recent authentication.',
        tags: ['account'],
        security: authSecurity,
        response: { 200: creationOptionsSchema, ...problemResponses(400, 401, 403, 503) },
      },
    },
    async (request) => passkeys.createRegistrationOptions(requireAuth(request)),
  )

  app.post<{ Body: { credential: unknown; name?: string } }>(
    '/',
    {
      bodyLimit: registrationBodyLimitBytes,
      schema: {
        summary: 'Register a passkey',
        operationId: 'registerPasskey',
        description: 'The credential `navigator.credentials.create()` returned for the options above.',
        tags: ['account'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: { credential: publicKeyCredentialSchema, name: nameField },
          required: ['credential'],
          additionalProperties: false,
        },
        response: { 201: passkeySchema, ...problemResponses(400, 401, 403, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const passkey = await passkeys.registerPasskey(
        requireAuth(request),
        { response: request.body.credential, name: request.body.name ?? 'Passkey' },
        readClientContext(request),
      )
      return reply.code(201).send(viewPasskey(passkey))
    },
  )

  app.patch<{ Params: { id: string }; Body: { name: string } }>(
    '/:id',
    {
      schema: {
        summary: 'Rename a passkey',
        operationId: 'renamePasskey',
        tags: ['account'],
        security: authSecurity,
        params: idParams,
        body: { type: 'object', properties: { name: nameField }, required: ['name'], additionalProperties: false },
        response: { 200: passkeySchema, ...problemResponses(400, 401, 403, 404, 413, 415, 503) },
      },
    },
    async (request) =>
      viewPasskey(
        await passkeys.renamePasskey(
          requireAuth(request),
          request.params.id,
          request.body.name,
          readClientContext(request),
        ),
      ),
  )

  app.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        summary: 'Remove a passkey',
        operationId: 'removePasskey',
        description: 'Needs a recent authentication.',
        tags: ['account'],
        security: authSecurity,
        params: idParams,
        response: { 204: { type: 'null' }, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      await passkeys.removePasskey(requireAuth(request), request.params.id, readClientContext(request))
      return reply.code(204).send()
    },
  )
}

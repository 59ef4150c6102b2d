/**
 * Administration of the token side: signing keys (list, rotate) and service clients (create,
 * list, delete). Every route needs the `admin` role. A client secret appears once, in the
 * creation answer; private keys never appear at all.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TokenAdministration } from '../../core/application/token-administration.ts'
import {
  signingAlgorithms,
  type ServiceClientRecord,
  type SigningAlgorithm,
  type SigningKeyView,
} from '../../core/application/types.ts'
import { TesseraError } from '../../core/errors.ts'
import { requireAuth, requireRole } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, problemResponses } from '../schemas/shared.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

const signingKeySchema = {
  type: 'object',
  properties: {
    kid: { type: 'string' },
    alg: { type: 'string', enum: signingAlgorithms },
    state: { type: 'string', enum: ['pending', 'active', 'retiring'] },
    created_at: { type: 'string', format: 'date-time' },
    activates_at: { type: 'string', format: 'date-time' },
    retires_at: { type: ['string', 'null'], format: 'date-time' },
  },
  required: ['kid', 'alg', 'state', 'created_at', 'activates_at', 'retires_at'],
} as const

const serviceClientSchema = {
  type: 'object',
  properties: {
    client_id: { type: 'string' },
    name: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
  },
  required: ['client_id', 'name', 'created_at'],
} as const

function viewSigningKey(key: SigningKeyView) {
  return {
    kid: key.kid,
    alg: key.algorithm,
    state: key.state,
    created_at: key.createdAt.toISOString(),
    activates_at: key.activatesAt.toISOString(),
    retires_at: key.retiresAt?.toISOString() ?? null,
  }
}

function viewServiceClient(client: ServiceClientRecord) {
  return { client_id: client.id, name: client.name, created_at: client.createdAt.toISOString() }
}

export interface AdminTokenRouteDeps extends AuthenticatedRouteDeps {
  tokenAdmin: TokenAdministration
}

export async function adminTokenRoutes(app: FastifyInstance, deps: AdminTokenRouteDeps): Promise<void> {
  const { tokenAdmin, authenticate } = deps
  const actorOf = (request: FastifyRequest) => ({
    actorUserId: requireAuth(request).user.id,
    context: readClientContext(request),
  })
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireRole('admin'))

  app.get(
    '/keys',
    {
      schema: {
        summary: 'List the published signing keys',
        operationId: 'listSigningKeys',
        tags: ['admin'],
        security: authSecurity,
        response: {
          200: {
            type: 'object',
            properties: { keys: { type: 'array', items: signingKeySchema } },
            required: ['keys'],
          },
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async () => ({ keys: tokenAdmin.listSigningKeys().map(viewSigningKey) }),
  )

  app.post<{ Querystring: { algorithm?: SigningAlgorithm; emergency?: boolean } }>(
    '/keys/rotate',
    {
      schema: {
        summary: 'Rotate the signing key',
        operationId: 'rotateSigningKey',
        description:
          'Publishes a new key at once (of `algorithm`, default TESSERA_SIGNING_ALGORITHM); it signs after TESSERA_KEY_ACTIVATION_DELAY. The keys it replaces leave the JWKS once every token they signed has expired. With `emergency=true` (a key may have leaked) the new key signs at once and every other key leaves the JWKS at once: their tokens stop verifying, sessions stay and get new tokens at their next refresh.',
        tags: ['admin'],
        security: authSecurity,
        querystring: {
          type: 'object',
          properties: {
            algorithm: { type: 'string', enum: signingAlgorithms },
            emergency: { type: 'boolean', default: false },
          },
          additionalProperties: false,
        },
        response: { 201: signingKeySchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { algorithm, emergency } = request.query
      const key = await tokenAdmin.rotateSigningKeys({ algorithm, emergency }, actorOf(request))
      return reply.code(201).send(viewSigningKey(key))
    },
  )

  app.get(
    '/clients',
    {
      schema: {
        summary: 'List service clients',
        operationId: 'listServiceClients',
        tags: ['admin'],
        security: authSecurity,
        response: {
          200: {
            type: 'object',
            properties: { clients: { type: 'array', items: serviceClientSchema } },
            required: ['clients'],
          },
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async () => ({ clients: (await tokenAdmin.listServiceClients()).map(viewServiceClient) }),
  )

  app.post<{ Body: { name: string } }>(
    '/clients',
    {
      schema: {
        summary: 'Create a service client (for introspection)',
        operationId: 'createServiceClient',
        description: 'The answer holds `client_secret`; it is shown this once and stored only as a hash.',
        tags: ['admin'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
          required: ['name'],
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: { ...serviceClientSchema.properties, client_secret: { type: 'string' } },
            required: [...serviceClientSchema.required, 'client_secret'],
          },
          ...problemResponses(400, 401, 403, 409, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const { client, secret } = await tokenAdmin.createServiceClient(request.body.name, actorOf(request))
      return reply.code(201).send({ ...viewServiceClient(client), client_secret: secret })
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/clients/:id',
    {
      schema: {
        summary: 'Delete a service client',
        operationId: 'deleteServiceClient',
        tags: ['admin'],
        security: authSecurity,
        params: {
          type: 'object',
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
          required: ['id'],
        },
        response: { 204: { type: 'null' }, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const deleted = await tokenAdmin.deleteServiceClient(request.params.id, actorOf(request))
      if (!deleted) throw new TesseraError('not_found', 'No such service client.')
      return reply.code(204).send()
    },
  )
}

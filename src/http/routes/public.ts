/** Unauthenticated endpoints: health, readiness and the JSON Web Key Set. */
import type { FastifyInstance } from 'fastify'
import { TesseraError } from '../../core/errors.ts'
import { problemResponses } from '../schemas/shared.ts'
import type { Health } from '../../core/application/application.ts'
import type { TokenAdministration } from '../../core/application/token-administration.ts'

const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string' } },
  required: ['status'],
} as const

export interface PublicRouteDeps {
  health: Health
  tokenAdmin: Pick<TokenAdministration, 'publicJwks'>
}

export async function publicRoutes(app: FastifyInstance, deps: PublicRouteDeps): Promise<void> {
  const { health, tokenAdmin } = deps

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'The process is alive',
        operationId: 'checkHealth',
        security: [],
        tags: ['health'],
        response: { 200: statusSchema },
      },
    },
    async () => ({ status: 'ok' }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'The stores answer',
        operationId: 'checkReadiness',
        security: [],
        tags: ['health'],
        response: { 200: statusSchema, ...problemResponses(503) },
      },
    },
    async (request) => {
      try {
        await health.checkReadiness()
      } catch (error) {
        request.log.warn({ err: error }, 'store not ready')
        throw new TesseraError('service_unavailable', 'A store is not reachable.')
      }
      return { status: 'ready' }
    },
  )

  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        summary: 'Public keys that verify access tokens',
        operationId: 'getJwks',
        security: [],
        tags: ['tokens'],
        response: {
          200: {
            type: 'object',
            properties: {
              keys: {
                type: 'array',
                items: {
                  type: 'object',
                  // Public members only: this list is what leaves the server.
                  properties: {
                    kty: { type: 'string' },
                    crv: { type: 'string' },
                    x: { type: 'string' },
                    y: { type: 'string' },
                    n: { type: 'string' },
                    e: { type: 'string' },
                    kid: { type: 'string' },
                    alg: { type: 'string' },
                    use: { type: 'string' },
                  },
                  required: ['kty', 'kid', 'alg', 'use'],
                },
              },
            },
            required: ['keys'],
          },
        },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return tokenAdmin.publicJwks()
    },
  )
}

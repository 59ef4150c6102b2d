/**
 * One-time tickets: a signed-in player asks for one (`POST /v1/tickets`) and hands it to a game
 * server, which redeems it with its service-client credentials (`POST /v1/tickets/redeem`) and
 * learns who the player is. Every refused redemption is the same `invalid_ticket`.
 */
import type { FastifyInstance } from 'fastify'
import type { OAuthOperations } from '../../core/application/token-administration.ts'
import { ticketLifetimeSeconds, type TicketOperations } from '../../core/application/tickets.ts'
import { requireAuth } from '../plugins/authenticate.ts'
import { createClientAuthenticate, refuseClient } from '../plugins/client-auth.ts'
import { authSecurity, problemResponses } from '../schemas/shared.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

export interface TicketRouteDeps extends AuthenticatedRouteDeps {
  tickets: TicketOperations
  oauth: Pick<OAuthOperations, 'authenticateServiceClient'>
}

const ticketBodyLimitBytes = 4096
const audienceField = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[\\x21-\\x7e]+$',
  description: 'The game server (or service) that will redeem the ticket: 1 to 128 visible ASCII characters.',
} as const

export async function ticketRoutes(app: FastifyInstance, deps: TicketRouteDeps): Promise<void> {
  const { tickets, authenticate } = deps
  app.decorateRequest('serviceClient', null)
  const authenticateClient = createClientAuthenticate(deps.oauth)

  app.post<{ Body: { audience: string } }>(
    '/',
    {
      onRequest: authenticate,
      bodyLimit: ticketBodyLimitBytes,
      schema: {
        summary: 'Get a one-time ticket for a game server',
        operationId: 'createTicket',
        description:
          'A ticket of the current session for one audience: valid 30 seconds, redeemable once, and only while the session lives. Hand it to the game server (for example in a WebSocket handshake), which redeems it at `POST /v1/tickets/redeem`.',
        tags: ['tickets'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: { audience: audienceField },
          required: ['audience'],
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: {
              ticket: { type: 'string', description: 'Single use; send it to the game server only.' },
              audience: { type: 'string' },
              expires_at: { type: 'string', format: 'date-time' },
              expires_in: { type: 'integer', description: 'Seconds until it expires.' },
            },
            required: ['ticket', 'audience', 'expires_at', 'expires_in'],
          },
          ...problemResponses(400, 401, 403, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request)
      const issued = await tickets.issueTicket(
        { userId: auth.user.id, sessionId: auth.session.id },
        request.body.audience,
      )
      return reply.code(201).send({
        ticket: issued.ticket,
        audience: issued.audience,
        expires_at: issued.expiresAt.toISOString(),
        expires_in: ticketLifetimeSeconds,
      })
    },
  )

  app.post<{ Body: { ticket: string; audience: string } }>(
    '/redeem',
    {
      onRequest: authenticateClient,
      bodyLimit: ticketBodyLimitBytes,
      schema: {
        summary: 'Redeem a ticket (game servers)',
        operationId: 'redeemTicket',
        description:
          'Needs a service client (HTTP Basic). Answers the player behind the ticket once; a second redemption, an expired ticket, one of an ended session or of another audience all answer 400 `invalid_ticket`.',
        tags: ['tickets'],
        security: [{ client: [] }],
        body: {
          type: 'object',
          properties: { ticket: { type: 'string', minLength: 1, maxLength: 256 }, audience: audienceField },
          required: ['ticket', 'audience'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              sub: { type: 'string', description: 'The user id.' },
              session_id: { type: 'string' },
              roles: { type: 'array', items: { type: 'string' } },
              username: { type: ['string', 'null'], description: 'Null for a guest account.' },
            },
            required: ['sub', 'session_id', 'roles', 'username'],
          },
          ...problemResponses(400, 401, 413, 415),
        },
      },
    },
    async (request, reply) => {
      if (!request.serviceClient) throw refuseClient(reply)
      const player = await tickets.redeemTicket(request.body.ticket, request.body.audience)
      return { sub: player.userId, session_id: player.sessionId, roles: player.roles, username: player.username }
    },
  )
}

/**
 * GET /v1/events/stream: the real-time events of every node (sessions ended and why, roles
 * changed, signing keys rotated) as Server-Sent Events, for service clients (HTTP Basic, as
 * introspection). Game servers follow it to close a player's socket the moment the session ends.
 * See docs/real-time.md for the framing, resumption and what a cut stream means.
 */
import type { FastifyInstance } from 'fastify'
import type { EventStreamOperations } from '../../core/application/application.ts'
import type { OAuthOperations } from '../../core/application/token-administration.ts'
import { openEventStream, type EventStreamConnection, type EventStreamLimits } from '../event-stream-writer.ts'
import { createClientAuthenticate, refuseClient } from '../plugins/client-auth.ts'
import { setSecurityHeaders } from '../plugins/security-headers.ts'
import { problemResponses } from '../schemas/shared.ts'

export interface EventStreamRouteDeps {
  oauth: Pick<OAuthOperations, 'authenticateServiceClient'>
  eventStream: EventStreamOperations
  limits: EventStreamLimits
}

const maxEventIdLength = 64

export async function eventStreamRoutes(app: FastifyInstance, deps: EventStreamRouteDeps): Promise<void> {
  const { oauth, eventStream, limits } = deps
  const open = new Set<EventStreamConnection>()
  app.decorateRequest('serviceClient', null)
  app.addHook('onRequest', createClientAuthenticate(oauth))
  // Streams never end by themselves: stopping the server ends them, and clients reconnect elsewhere.
  app.addHook('preClose', async () => {
    for (const connection of [...open]) connection.end()
  })

  app.get<{ Headers: { 'last-event-id'?: string } }>(
    '/stream',
    {
      schema: {
        summary: 'Follow the real-time events (Server-Sent Events)',
        operationId: 'followEventStream',
        description:
          'Needs a service client (HTTP Basic). A `text/event-stream` of `session_ended` (`user_id`, `session_id`, `reason`), `roles_changed` (`user_id`, `roles`) and `keys_rotated` events from every node, each with an `id`; send the last one back as `Last-Event-ID` when reconnecting to get what was missed. A `resync` event means events may have been missed (beyond the replay window, or a node lost messages): check every session held again. Comment lines are heartbeats. A client that reads too slowly is cut off. See docs/real-time.md.',
        tags: ['events'],
        security: [{ client: [] }],
        headers: {
          type: 'object',
          properties: { 'last-event-id': { type: 'string', maxLength: maxEventIdLength } },
        },
        response: {
          200: {
            description: 'The event stream; it stays open.',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...problemResponses(400, 401),
        },
      },
    },
    async (request, reply) => {
      if (!request.serviceClient) throw refuseClient(reply)
      const lastEventId = request.headers['last-event-id'] ?? null
      setSecurityHeaders(reply)
      reply.hijack()
      const response = reply.raw
      response.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        // Proxies such as nginx would otherwise hold events back to fill a buffer.
        'x-accel-buffering': 'no',
      })
      let subscription: { stop(): void } | null = null
      const connection = openEventStream(response, limits, (why) => {
        subscription?.stop()
        open.delete(connection)
        if (why === 'slow_consumer')
          request.log.warn({ client: request.serviceClient?.id }, 'event stream cut: the client reads too slowly')
      })
      open.add(connection)
      response.write(': connected\n\n')
      const followed = eventStream.follow(lastEventId === '' ? null : lastEventId, (item) => connection.send(item))
      subscription = followed
      for (const item of followed.backlog) connection.send(item)
    },
  )
}

/** The security events of the caller's own account (sign-ins, sessions, password, roles). */
import type { FastifyInstance } from 'fastify'
import { requireAuth } from '../plugins/authenticate.ts'
import { cursorField, encodeTimeCursor, viewOwnAuditEvent } from '../schemas/audit.ts'
import { authSecurity, problemResponses } from '../schemas/shared.ts'
import { readCursor } from './audit.ts'
import type { AuditTrailOperations } from '../../core/application/audit-trail.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

export interface MyEventsRouteDeps extends AuthenticatedRouteDeps {
  auditTrail: AuditTrailOperations
}

export async function myEventsRoutes(app: FastifyInstance, deps: MyEventsRouteDeps): Promise<void> {
  const { auditTrail, authenticate } = deps

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/',
    {
      onRequest: authenticate,
      schema: {
        summary: 'Security events of my account',
        operationId: 'listMyEvents',
        description:
          "Newest first. Failed sign-ins with my username that named no account are not listed. `ip` and `user_agent` are shown only for requests I made myself (null for an administrator's action or a failed sign-in by someone else).",
        tags: ['account'],
        security: authSecurity,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, cursor: cursorField },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              events: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    occurred_at: { type: 'string', format: 'date-time' },
                    type: { type: 'string' },
                    outcome: { type: 'string' },
                    ip: { type: ['string', 'null'] },
                    user_agent: { type: ['string', 'null'] },
                    session_id: { type: ['string', 'null'] },
                  },
                  required: ['id', 'occurred_at', 'type', 'outcome', 'ip', 'user_agent', 'session_id'],
                },
              },
              next_cursor: { type: ['string', 'null'] },
            },
            required: ['events', 'next_cursor'],
          },
          ...problemResponses(400, 401),
        },
      },
    },
    async (request) => {
      const auth = requireAuth(request)
      const page = await auditTrail.queryUserEvents(auth.user.id, {
        after: readCursor(request.query.cursor),
        limit: request.query.limit,
      })
      return {
        events: page.events.map((event) => viewOwnAuditEvent(event, auth.user.id)),
        next_cursor: page.nextCursor && encodeTimeCursor(page.nextCursor.occurredAt, page.nextCursor.id),
      }
    },
  )
}

/** Alerts raised by the security review, newest first. */
import type { FastifyInstance } from 'fastify'
import { TesseraError } from '../../core/errors.ts'
import { requireRole } from '../plugins/authenticate.ts'
import { cursorField, decodeTimeCursor, encodeTimeCursor, viewAlert } from '../schemas/audit.ts'
import { authSecurity, problemResponses } from '../schemas/shared.ts'
import type { AuditTrailOperations } from '../../core/application/audit-trail.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

export interface AlertRouteDeps extends AuthenticatedRouteDeps {
  auditTrail: AuditTrailOperations
}

export async function alertRoutes(app: FastifyInstance, deps: AlertRouteDeps): Promise<void> {
  const { auditTrail, authenticate } = deps
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireRole('admin'))

  app.get<{ Querystring: { since?: string; rule?: string; limit: number; cursor?: string } }>(
    '/',
    {
      schema: {
        summary: 'List alerts',
        operationId: 'listAlerts',
        tags: ['admin'],
        security: authSecurity,
        querystring: {
          type: 'object',
          properties: {
            since: { type: 'string', format: 'date-time' },
            rule: { type: 'string', pattern: '^[a-z_]{1,64}$' },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            cursor: cursorField,
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              alerts: { type: 'array', items: { $ref: 'Alert#' } },
              next_cursor: { type: ['string', 'null'] },
            },
            required: ['alerts', 'next_cursor'],
          },
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { since, rule, limit, cursor } = request.query
      const decoded = decodeTimeCursor(cursor)
      if (cursor !== undefined && decoded === null)
        throw new TesseraError('validation_failed', 'The cursor is not valid.')
      const page = await auditTrail.listAlerts({
        since: since === undefined ? null : new Date(since),
        rule: rule ?? null,
        after: decoded && { raisedAt: decoded.at, id: decoded.id },
        limit,
      })
      return {
        alerts: page.alerts.map(viewAlert),
        next_cursor: page.nextCursor && encodeTimeCursor(page.nextCursor.raisedAt, page.nextCursor.id),
      }
    },
  )
}

/**
 * The audit trail for administrators: filtered, cursor-paginated JSON, or every matching event
 * as JSON lines (`format=jsonl`, oldest first) for export. Read-only: the trail has no API that
 * changes or deletes an event.
 */
import type { FastifyInstance } from 'fastify'
import { Readable } from 'node:stream'
import type { AccountAdministration } from '../../core/application/account-admin.ts'
import type { AuditTrailOperations } from '../../core/application/audit-trail.ts'
import {
  auditEventTypes,
  auditOutcomes,
  type AuditCursor,
  type AuditEventFilter,
  type AuditEventType,
  type AuditOutcome,
} from '../../core/application/types.ts'
import { TesseraError } from '../../core/errors.ts'
import { requireRole } from '../plugins/authenticate.ts'
import { cursorField, decodeTimeCursor, encodeTimeCursor, toAuditCursor, viewAuditEvent } from '../schemas/audit.ts'
import { authSecurity, problemResponses } from '../schemas/shared.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

interface AuditQuery {
  user?: string
  type?: AuditEventType[]
  outcome?: AuditOutcome
  ip?: string
  since?: string
  until?: string
  limit: number
  cursor?: string
  format: 'json' | 'jsonl'
}

const exportPageSize = 500

export function readCursor(cursor: string | undefined): AuditCursor | null {
  const decoded = decodeTimeCursor(cursor)
  if (cursor !== undefined && decoded === null) throw new TesseraError('validation_failed', 'The cursor is not valid.')
  return toAuditCursor(decoded)
}

async function* exportEvents(auditTrail: AuditTrailOperations, filter: AuditEventFilter): AsyncGenerator<string> {
  let after: AuditCursor | null = null
  do {
    const page = await auditTrail.queryEvents(filter, { order: 'oldest_first', after, limit: exportPageSize })
    for (const event of page.events) yield `${JSON.stringify(viewAuditEvent(event))}\n`
    after = page.nextCursor
  } while (after !== null)
}

export interface AuditRouteDeps extends AuthenticatedRouteDeps {
  auditTrail: AuditTrailOperations
  accountAdmin: Pick<AccountAdministration, 'resolveUser'>
}

/**
 * The user id a `user` filter names: a user's id or username (an unknown one is `not_found`,
 * never an empty page), or a deleted account's pseudonym (`~…`) as the trail keeps it.
 */
export async function resolveUserFilter(
  accountAdmin: Pick<AccountAdministration, 'resolveUser'>,
  reference: string,
): Promise<string> {
  if (reference.startsWith('~')) return reference
  return (await accountAdmin.resolveUser(reference)).id
}

export async function auditRoutes(app: FastifyInstance, deps: AuditRouteDeps): Promise<void> {
  const { auditTrail, accountAdmin, authenticate } = deps
  app.addHook('onRequest', authenticate)
  app.addHook('onRequest', requireRole('admin'))

  app.get<{ Querystring: AuditQuery }>(
    '/',
    {
      schema: {
        summary: 'Query the audit trail',
        operationId: 'queryAuditEvents',
        description:
          "Newest first, `limit` per page; pass `next_cursor` back as `cursor`. `user` (an id, a username, or a deleted account's `~` pseudonym) matches the actor or the subject; an unknown user is `not_found`. `format=jsonl` streams every matching event, oldest first, as `application/x-ndjson`.",
        tags: ['admin'],
        security: authSecurity,
        querystring: {
          type: 'object',
          properties: {
            user: { type: 'string', minLength: 1, maxLength: 256 },
            type: {
              type: 'array',
              maxItems: auditEventTypes.length,
              items: { type: 'string', enum: [...auditEventTypes] },
            },
            outcome: { type: 'string', enum: [...auditOutcomes] },
            ip: { type: 'string', minLength: 1, maxLength: 64 },
            since: { type: 'string', format: 'date-time' },
            until: { type: 'string', format: 'date-time' },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
            cursor: cursorField,
            format: { type: 'string', enum: ['json', 'jsonl'], default: 'json' },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              events: { type: 'array', items: { $ref: 'AuditEvent#' } },
              next_cursor: { type: ['string', 'null'] },
            },
            required: ['events', 'next_cursor'],
          },
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const { user, type, outcome, ip, since, until, limit, cursor, format } = request.query
      const filter: AuditEventFilter = {
        ...(user === undefined ? {} : { userId: await resolveUserFilter(accountAdmin, user) }),
        ...(type === undefined ? {} : { types: type }),
        ...(outcome === undefined ? {} : { outcome }),
        ...(ip === undefined ? {} : { ip }),
        ...(since === undefined ? {} : { since: new Date(since) }),
        ...(until === undefined ? {} : { until: new Date(until) }),
      }
      if (format === 'jsonl') {
        reply.type('application/x-ndjson; charset=utf-8')
        return reply.send(Readable.from(exportEvents(auditTrail, filter)))
      }
      const page = await auditTrail.queryEvents(filter, { after: readCursor(cursor), limit })
      return {
        events: page.events.map(viewAuditEvent),
        next_cursor: page.nextCursor && encodeTimeCursor(page.nextCursor.occurredAt, page.nextCursor.id),
      }
    },
  )
}

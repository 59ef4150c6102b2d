/** The caller's sessions: list them, end one, end all others or all. */
import type { FastifyInstance } from 'fastify'
import { TesseraError } from '../../core/errors.ts'
import { requireAuth } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, problemResponses } from '../schemas/shared.ts'
import { clearSessionCookie } from '../session-cookie.ts'
import { viewSession } from '../views.ts'
import type { MySessionOperations } from '../../core/application/my-sessions.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

export interface SessionRouteDeps extends AuthenticatedRouteDeps {
  mySessions: MySessionOperations
  idleTimeoutSeconds: number
}

export async function sessionRoutes(app: FastifyInstance, deps: SessionRouteDeps): Promise<void> {
  const { mySessions, idleTimeoutSeconds, authenticate } = deps

  app.get(
    '/',
    {
      onRequest: authenticate,
      schema: {
        summary: 'List my sessions',
        operationId: 'listMySessions',
        tags: ['sessions'],
        security: authSecurity,
        response: {
          200: {
            type: 'object',
            properties: { sessions: { type: 'array', items: { $ref: 'Session#' } } },
            required: ['sessions'],
          },
          ...problemResponses(400, 401),
        },
      },
    },
    async (request) => {
      const auth = requireAuth(request)
      const sessions = await mySessions.listMySessions({ userId: auth.user.id, sessionId: auth.session.id })
      return { sessions: sessions.map((session) => viewSession(session, idleTimeoutSeconds, auth.session.id)) }
    },
  )

  app.delete<{ Querystring: { scope: 'others' | 'all' } }>(
    '/',
    {
      onRequest: authenticate,
      schema: {
        summary: 'End my other sessions, or all of them',
        operationId: 'endMySessionsByScope',
        description: '`scope=others` (default) keeps the current session; `scope=all` ends it too.',
        tags: ['sessions'],
        security: authSecurity,
        querystring: {
          type: 'object',
          properties: { scope: { type: 'string', enum: ['others', 'all'], default: 'others' } },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { ended: { type: 'integer' } }, required: ['ended'] },
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request)
      const endsCurrent = request.query.scope === 'all'
      const caller = { userId: auth.user.id, sessionId: auth.session.id }
      const ended = await mySessions.endMySessions(caller, endsCurrent, readClientContext(request))
      if (endsCurrent && auth.transport === 'cookie') clearSessionCookie(reply)
      return { ended }
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/:id',
    {
      onRequest: authenticate,
      schema: {
        summary: 'End one of my sessions',
        operationId: 'endMySession',
        description: 'Answers 404 alike for a session that does not exist and one of another user.',
        tags: ['sessions'],
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
      const auth = requireAuth(request)
      const caller = { userId: auth.user.id, sessionId: auth.session.id }
      if (!(await mySessions.endMySession(caller, request.params.id, readClientContext(request)))) {
        throw new TesseraError('not_found', 'No such session.')
      }
      if (request.params.id === auth.session.id && auth.transport === 'cookie') clearSessionCookie(reply)
      return reply.code(204).send()
    },
  )
}

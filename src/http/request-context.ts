/** What the core records about where a request came from: address, user agent, request id. */
import type { FastifyRequest } from 'fastify'
import type { ClientContext } from '../core/application/sign-in.ts'
import { readUserAgent } from './routes/route-deps.ts'

export function readClientContext(request: FastifyRequest): ClientContext {
  return { ip: request.ip, userAgent: readUserAgent(request.headers['user-agent']), requestId: request.id }
}

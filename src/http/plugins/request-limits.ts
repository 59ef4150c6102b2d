/**
 * Per-network request limits on endpoints that take a credential but verify no password
 * (password verifications are throttled in the core). Registration counts every request; a
 * refresh counts only when it fails, so clients that refresh often are never slowed down.
 * Routes are listed by method and path so an endpoint added later needs one line here.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RequestAttempt, RequestThrottle } from '../../core/throttle/request-throttle.ts'

const limitedRoutes: Readonly<Record<string, string>> = {
  'POST /v1/auth/register': 'registration',
  'POST /v1/auth/refresh': 'refresh',
}

export function registerRequestLimits(app: FastifyInstance, throttle: RequestThrottle): void {
  const attempts = new WeakMap<FastifyRequest, RequestAttempt>()
  app.addHook('onRequest', async (request) => {
    const kind = limitedRoutes[`${request.method} ${request.routeOptions.url}`]
    if (kind !== undefined) attempts.set(request, await throttle.admitRequest(kind, request.ip))
  })
  app.addHook('onSend', async (request, reply, payload) => {
    const attempt = attempts.get(request)
    const isFailure = reply.statusCode >= 400 && reply.statusCode < 500 && reply.statusCode !== 429
    if (attempt && isFailure) await attempt.recordFailure()
    return payload
  })
}

/**
 * Answers 405 (with `Allow`) instead of 404 when a path exists but not for the method used.
 * Routes are collected as they are registered; the fallbacks are added once all are known.
 */
import type { FastifyInstance, HTTPMethods } from 'fastify'
import { TesseraError } from '../../core/errors.ts'
import { hasAnnouncedBody } from '../problem.ts'

const answeredMethods: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

export function collectRoutes(app: FastifyInstance): Map<string, Set<string>> {
  const methodsByUrl = new Map<string, Set<string>>()
  app.addHook('onRoute', (route) => {
    const methods = methodsByUrl.get(route.url) ?? new Set<string>()
    for (const method of [route.method].flat()) methods.add(method)
    methodsByUrl.set(route.url, methods)
  })
  return methodsByUrl
}

export function registerMethodFallbacks(app: FastifyInstance, methodsByUrl: Map<string, Set<string>>): void {
  for (const [url, methods] of [...methodsByUrl]) {
    const missing = answeredMethods.filter((method) => !methods.has(method))
    if (missing.length === 0) continue
    // OPTIONS answers CORS preflights only; it is no method of the resource itself.
    const allow = [...methods]
      .filter((method) => method !== 'OPTIONS' && (method !== 'HEAD' || methods.has('GET')))
      .join(', ')
    app.route({
      method: missing,
      url,
      schema: { hide: true },
      // Answered before any body is read, as an unknown address is.
      onRequest: async (request, reply) => {
        reply.header('allow', allow)
        if (hasAnnouncedBody(request)) reply.header('connection', 'close')
        throw new TesseraError('method_not_allowed', 'This method is not allowed here.')
      },
      handler: async () => {
        throw new TypeError('answered in onRequest')
      },
    })
  }
}

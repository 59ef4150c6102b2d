/**
 * `GET /metrics` in the Prometheus text format, and the request-duration histogram. With a
 * metrics token configured, scrapes must send it as a bearer token (compared in constant time);
 * without one the endpoint is open, so bind Tessera to a private interface or firewall the path.
 */
import type { FastifyInstance } from 'fastify'
import { TesseraError } from '../../core/errors.ts'
import { secretsEqual } from '../../core/secrets.ts'
import type { Metrics } from '../../metrics/metrics.ts'
import { problemResponses } from '../schemas/shared.ts'

export function registerMetrics(app: FastifyInstance, metrics: Metrics, token: string | null): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeHttpRequest(
      { method: request.method, route: request.routeOptions.url ?? '(unmatched)', statusCode: reply.statusCode },
      reply.elapsedTime / 1000,
    )
    done()
  })

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        operationId: 'getMetrics',
        security: [{}, { metricsToken: [] }],
        description: 'Needs `Authorization: Bearer <TESSERA_METRICS_TOKEN>` when that setting is set.',
        tags: ['health'],
        response: { 200: { type: 'string' }, ...problemResponses(401) },
      },
    },
    async (request, reply) => {
      if (token !== null) {
        const presented = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? ''
        if (!secretsEqual(presented, token)) {
          reply.header('www-authenticate', 'Bearer')
          throw new TesseraError('unauthenticated', 'The metrics token is missing or wrong.')
        }
      }
      reply.type(metrics.registry.contentType)
      return metrics.registry.metrics()
    },
  )
}

/**
 * Headers every response carries, errors included. Everything but the JWKS and the OpenAPI
 * document may hold a credential or personal data, so nothing else is cacheable.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'

/** Sets the headers; for answers that skip the hooks (routing errors), called directly. */
export function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff')
  reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
  reply.header('x-frame-options', 'DENY')
  reply.header('referrer-policy', 'no-referrer')
  reply.header('cross-origin-resource-policy', 'same-origin')
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
}

export function registerSecurityHeaders(app: FastifyInstance): void {
  // A callback hook, not an async one: every answer passes here, and a promise per answer costs.
  app.addHook('onSend', (_request, reply, payload, done) => {
    setSecurityHeaders(reply)
    done(null, payload)
  })
}

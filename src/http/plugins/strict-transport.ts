/**
 * HSTS whenever clients reach Tessera over TLS, served here or ended by a proxy in front
 * (an https public URL). Browsers then refuse plain HTTP to this host for a year.
 */
import type { FastifyInstance } from 'fastify'

export const strictTransportSecurity = 'max-age=31536000; includeSubDomains'

export function registerStrictTransport(app: FastifyInstance, isHttps: boolean): void {
  if (!isHttps) return
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('strict-transport-security', strictTransportSecurity)
    done(null, payload)
  })
}

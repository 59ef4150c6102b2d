/**
 * CORS for browser apps on other origins, through @fastify/cors. The origins are the ones of
 * TESSERA_ALLOWED_ORIGINS, the same list whose cookie-authenticated unsafe requests are accepted:
 * both say "scripts of this origin may act for the signed-in user". A listed origin that could
 * read answers (CORS) but not send unsafe cookie requests, or the reverse, would be a trust
 * nobody can reason about, so there is one list (docs/browser-clients.md).
 *
 * Nothing is opened by default: a request whose `Origin` is not listed gets no
 * `Access-Control-*` header at all (only `Vary: Origin`, for caches), and its `OPTIONS` gets the
 * same 404 as before. A preflight from a listed origin is answered on the paths the API serves,
 * naming only the methods served there.
 */
import cors from '@fastify/cors'
import type { FastifyCorsOptions } from '@fastify/cors'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { pathOf, type RouteTable } from './method-not-allowed.ts'

/** The request headers Tessera reads; any other header in a preflight is not allowed. */
const allowedRequestHeaders = ['authorization', 'content-type', 'x-csrf-token', 'if-match']
/** Response headers a client needs besides the CORS-safelisted ones (Content-Type, Cache-Control …). */
const exposedResponseHeaders = ['retry-after', 'www-authenticate', 'allow', 'etag']
/** How long a browser may reuse a preflight answer (Chromium caps it at 2 h). */
export const preflightMaxAgeSeconds = 600

const sharedOptions = {
  credentials: true,
  exposedHeaders: exposedResponseHeaders,
  allowedHeaders: allowedRequestHeaders,
  maxAge: preflightMaxAgeSeconds,
  strictPreflight: false,
} satisfies FastifyCorsOptions

export async function registerCors(
  app: FastifyInstance,
  allowedOrigins: readonly string[],
  routes: RouteTable,
): Promise<void> {
  const listed = new Set(allowedOrigins)

  function resolveOptions(request: FastifyRequest): FastifyCorsOptions {
    const origin = request.headers.origin
    // `false` keeps the plugin silent: no header, no preflight answer.
    if (origin === undefined || !listed.has(origin)) return { origin: false }
    if (request.method !== 'OPTIONS') return { ...sharedOptions, origin }
    // An OPTIONS that is no preflight, or aims at no API path, is answered as before (404); so is
    // one at a path that answers OPTIONS itself.
    if (request.headers['access-control-request-method'] === undefined) return { origin: false }
    const served = routes.methodsAt(pathOf(request))
    if (served.size === 0 || served.has('OPTIONS')) return { origin: false }
    const methods = [...served].sort()
    return { ...sharedOptions, origin, methods }
  }

  await app.register(cors, {
    hideOptionsRoute: true,
    delegator: (request, callback) => callback(null, resolveOptions(request)),
  })
}

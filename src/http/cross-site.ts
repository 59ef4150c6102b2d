/**
 * Cross-site request detection for cookie-authenticated requests (OWASP CSRF cheat sheet:
 * Fetch Metadata first, then Origin). Browsers send at least one of them on every unsafe
 * request; a request with neither comes from an older client and must prove itself with the
 * session's CSRF token instead.
 */
import type { FastifyRequest } from 'fastify'

export type RequestSite = 'same-origin' | 'cross-site' | 'unknown'

export function classifyRequestSite(request: FastifyRequest, allowedOrigins: readonly string[]): RequestSite {
  const fetchSite = request.headers['sec-fetch-site']
  const origin = request.headers.origin
  // An origin on the allow-list (for example an app on a sibling subdomain) is trusted even
  // though Fetch Metadata calls it same-site or cross-site; any other origin, `null` included, is not.
  if (origin !== undefined) return allowedOrigins.includes(origin) ? 'same-origin' : 'cross-site'
  if (fetchSite === undefined) return 'unknown'
  return fetchSite === 'same-origin' || fetchSite === 'none' ? 'same-origin' : 'cross-site'
}

export function isUnsafeMethod(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS'
}

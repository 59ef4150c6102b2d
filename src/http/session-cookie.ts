/**
 * The browser session cookie. `__Host-` makes the browser refuse it unless it is Secure, has
 * Path=/ and no Domain, so a sibling subdomain cannot plant or overwrite it; HttpOnly keeps it
 * from scripts; SameSite=Lax keeps it off cross-site subrequests.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

export const sessionCookieName = '__Host-session'
const cookiePattern = /(?:^|;)\s*__Host-session=/g

export type CookieCredential = { kind: 'none' } | { kind: 'single'; token: string } | { kind: 'duplicate' }

export function readSessionCookie(request: FastifyRequest): CookieCredential {
  const header = request.headers.cookie
  if (!header) return { kind: 'none' }
  const occurrences = header.match(cookiePattern)?.length ?? 0
  if (occurrences > 1) return { kind: 'duplicate' }
  const token = request.cookies[sessionCookieName]
  return token ? { kind: 'single', token } : { kind: 'none' }
}

export function setSessionCookie(reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  reply.setCookie(sessionCookieName, token, {
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    path: '/',
    maxAge: Math.floor(maxAgeSeconds),
  })
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.setCookie(sessionCookieName, '', {
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    path: '/',
    maxAge: 0,
    expires: new Date(0),
  })
}

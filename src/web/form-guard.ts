/**
 * CSRF defence of the pages' forms, in two layers (OWASP CSRF cheat sheet):
 *
 * 1. The request must not be cross-site: the same Origin / Fetch Metadata check as the API's
 *    cookie requests (http/cross-site.ts), which browsers answer on every form POST.
 * 2. Every form carries a token bound to the browser: to the session once signed in (the
 *    session's CSRF token, an HMAC of its id under a server secret), and before that to a
 *    pre-session cookie, random and `__Host-` prefixed, so a sibling subdomain can neither read
 *    nor plant it (login CSRF needs the victim's cookie and the token that matches it).
 *
 * The token is compared in constant time; a form without the right one is refused whatever its
 * origin says, so either layer alone stops a forged form.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SignInOperations } from '../core/application/sign-in.ts'
import { TesseraError } from '../core/errors.ts'
import { createRandomToken } from '../core/secrets.ts'
import { classifyRequestSite } from '../http/cross-site.ts'

export const preSessionCookieName = '__Host-pre-session'
const preSessionCookiePattern = /(?:^|;)\s*__Host-pre-session=/g
const preSessionPattern = /^[A-Za-z0-9_-]{43}$/

type CsrfTokens = Pick<SignInOperations, 'createCsrfToken' | 'isCsrfTokenValid'>

export interface FormGuard {
  /** The token of a signed-in session's forms. */
  sessionToken(sessionId: string): string
  /** The token of a visitor's forms; sets the pre-session cookie when the browser has none. */
  visitorToken(request: FastifyRequest, reply: FastifyReply): string
  /** Throws `csrf_rejected` unless the form is same-origin and carries the browser's token. */
  checkForm(request: FastifyRequest, presented: unknown, sessionId: string | null): void
  /** Forgets the pre-session cookie (after a sign-in, the session's token takes over). */
  clearVisitor(reply: FastifyReply): void
}

/**
 * A page sent with `Referrer-Policy: no-referrer` (those a mailed token reaches) makes the
 * browser send `Origin: null` with its forms. Fetch Metadata, which no page can set, still tells
 * this site's own form from one of an opaque origin (a sandboxed frame is `cross-site`).
 */
function classifyFormSite(request: FastifyRequest, allowedOrigins: readonly string[]) {
  if (request.headers.origin === 'null' && request.headers['sec-fetch-site'] === 'same-origin') return 'same-origin'
  return classifyRequestSite(request, allowedOrigins)
}

// Distinct from any session id (a UUID), so a visitor's token never passes as a session's.
const visitorBinding = (preSession: string) => `pre-session:${preSession}`

function readPreSession(request: FastifyRequest): string | null {
  const header = request.headers.cookie ?? ''
  if ((header.match(preSessionCookiePattern)?.length ?? 0) !== 1) return null
  const value = request.cookies[preSessionCookieName]
  return value !== undefined && preSessionPattern.test(value) ? value : null
}

export function createFormGuard(deps: { csrfTokens: CsrfTokens; allowedOrigins: readonly string[] }): FormGuard {
  const { csrfTokens, allowedOrigins } = deps
  return {
    sessionToken: (sessionId) => csrfTokens.createCsrfToken(sessionId),

    visitorToken(request, reply) {
      let preSession = readPreSession(request)
      if (preSession === null) {
        preSession = createRandomToken(32)
        // A browser-session cookie: it only has to outlive the form it was made for.
        reply.setCookie(preSessionCookieName, preSession, { httpOnly: true, secure: true, sameSite: 'lax', path: '/' })
      }
      return csrfTokens.createCsrfToken(visitorBinding(preSession))
    },

    checkForm(request, presented, sessionId) {
      if (classifyFormSite(request, allowedOrigins) === 'cross-site') {
        throw new TesseraError('csrf_rejected', 'This form must be sent from this site.')
      }
      const binding =
        sessionId ??
        (() => {
          const preSession = readPreSession(request)
          return preSession === null ? null : visitorBinding(preSession)
        })()
      if (binding === null || typeof presented !== 'string' || !csrfTokens.isCsrfTokenValid(binding, presented)) {
        throw new TesseraError('csrf_rejected', 'The form token is missing or not valid.')
      }
    },

    clearVisitor(reply) {
      reply.setCookie(preSessionCookieName, '', {
        httpOnly: true,
        secure: true,
        sameSite: 'lax',
        path: '/',
        maxAge: 0,
        expires: new Date(0),
      })
    },
  }
}

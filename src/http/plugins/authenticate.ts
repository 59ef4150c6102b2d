/**
 * Finds the caller of a request in `onRequest` (before any body is read) and puts it on
 * `request.auth`. Credentials come only from the Authorization header or the session cookie,
 * never from the URL or the body; both at once, or the cookie twice, is refused as ambiguous.
 * Cookie-authenticated unsafe requests must be same-origin (or carry the session's CSRF token).
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { Principal, SignInOperations } from '../../core/application/sign-in.ts'
import { TesseraError } from '../../core/errors.ts'
import { classifyRequestSite, isUnsafeMethod } from '../cross-site.ts'
import { readSessionCookie } from '../session-cookie.ts'

export interface RequestAuth extends Principal {
  transport: 'cookie' | 'token'
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: RequestAuth | null
  }
}

const bearerPrefixLength = 'Bearer '.length

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or null. */
function readBearerToken(authorization: string): string | null {
  if (authorization.length <= bearerPrefixLength) return null
  if (authorization.slice(0, bearerPrefixLength).toLowerCase() !== 'bearer ') return null
  // The access-token verifier accepts compact JWS text only; anything else fails there.
  return authorization.slice(bearerPrefixLength)
}

function challenge(reply: FastifyReply, error: string | null): void {
  reply.header('www-authenticate', error === null ? 'Bearer' : `Bearer error="${error}"`)
}

type CallerResolution = Pick<
  SignInOperations,
  'resolveAccessToken' | 'resolveSessionToken' | 'isCsrfTokenValid' | 'explainEndedSession'
>

/** What the problem adds for a session its holder is to be told about (`reason: signed_in_elsewhere`). */
async function describeEnd(signIn: CallerResolution, credential: { accessToken: string } | { sessionToken: string }) {
  const notice = await signIn.explainEndedSession(credential)
  return notice === null ? {} : { details: { reason: notice } }
}

export function createAuthenticate(deps: {
  signIn: CallerResolution
  allowedOrigins: readonly string[]
}): onRequestHookHandler {
  const { signIn, allowedOrigins } = deps

  return async function authenticate(request: FastifyRequest, reply: FastifyReply) {
    const authorization = request.headers.authorization
    const cookie = readSessionCookie(request)
    if (cookie.kind === 'duplicate' || (authorization !== undefined && cookie.kind === 'single')) {
      throw new TesseraError('ambiguous_credentials', 'Send one credential: a bearer token or the session cookie.')
    }
    if (authorization !== undefined) {
      const token = readBearerToken(authorization)
      const principal = token === null ? null : await signIn.resolveAccessToken(token)
      if (!principal) {
        challenge(reply, 'invalid_token')
        const ended = token === null ? {} : await describeEnd(signIn, { accessToken: token })
        const message =
          'details' in ended
            ? 'The session was ended by a sign-in on another device; sign in again.'
            : 'The access token is not valid.'
        throw new TesseraError('invalid_token', message, ended)
      }
      request.auth = { ...principal, transport: 'token' }
      return
    }
    if (cookie.kind === 'single') {
      const principal = await signIn.resolveSessionToken(cookie.token)
      if (!principal) {
        throw new TesseraError(
          'unauthenticated',
          'The session has ended; sign in again.',
          await describeEnd(signIn, { sessionToken: cookie.token }),
        )
      }
      if (isUnsafeMethod(request.method)) assertSameOrigin(request, principal, signIn, allowedOrigins)
      request.auth = { ...principal, transport: 'cookie' }
      return
    }
    challenge(reply, null)
    throw new TesseraError('unauthenticated', 'Sign in to use this endpoint.')
  }
}

function assertSameOrigin(
  request: FastifyRequest,
  principal: Principal,
  signIn: CallerResolution,
  allowedOrigins: readonly string[],
): void {
  const site = classifyRequestSite(request, allowedOrigins)
  if (site === 'same-origin') return
  const csrfToken = request.headers['x-csrf-token']
  if (site === 'unknown' && typeof csrfToken === 'string' && signIn.isCsrfTokenValid(principal.session.id, csrfToken)) {
    return
  }
  throw new TesseraError('csrf_rejected', 'This request must come from an allowed origin.')
}

/**
 * The caller must hold `role`. Admin routes run it in `onRequest`, right after `authenticate`:
 * the role is decided before the body is read or validated, so a caller without it gets 403
 * whatever it sends, and no body of theirs is ever parsed.
 */
export function requireRole(role: string): (request: FastifyRequest) => Promise<void> {
  return async function checkRole(request: FastifyRequest) {
    if (!request.auth) throw new TesseraError('unauthenticated', 'Sign in to use this endpoint.')
    if (!request.auth.user.roles.includes(role)) {
      throw new TesseraError('forbidden', 'Your account may not do this.')
    }
  }
}

/** The authenticated caller of a route that ran `authenticate`. */
export function requireAuth(request: FastifyRequest): RequestAuth {
  if (!request.auth) throw new TypeError('route is missing the authenticate hook')
  return request.auth
}

/**
 * Who is signed in on a page request: the session cookie only (pages never read a bearer token),
 * resolved under the same liveness rules as the API, and put on `request.auth` so refusals are
 * recorded with the caller (http/plugins/audit-denials.ts). Two session cookies are refused as
 * ambiguous, as the API refuses them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Principal, SignInOperations } from '../core/application/sign-in.ts'
import { TesseraError } from '../core/errors.ts'
import { clearSessionCookie, readSessionCookie } from '../http/session-cookie.ts'
import { redirectTo } from './page-reply.ts'

export type ViewerResolution = Pick<SignInOperations, 'resolveSessionToken'>

export async function readViewer(request: FastifyRequest, signIn: ViewerResolution): Promise<Principal | null> {
  const cookie = readSessionCookie(request)
  if (cookie.kind === 'duplicate') {
    throw new TesseraError('ambiguous_credentials', 'Send one session cookie.')
  }
  if (cookie.kind === 'none') return null
  const principal = await signIn.resolveSessionToken(cookie.token)
  if (principal) request.auth = { ...principal, transport: 'cookie' }
  return principal
}

/** Sends the browser to the sign-in page, back here afterwards; an ended session's cookie goes. */
export function redirectToSignIn(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const hadSession = readSessionCookie(request).kind === 'single'
  if (hadSession) clearSessionCookie(reply)
  const here = new URL(request.url, 'http://page.invalid')
  here.searchParams.delete('lang')
  const returnTo = encodeURIComponent(`${here.pathname}${here.search}`)
  return redirectTo(reply, `/login?${hadSession ? 'notice=ended&' : ''}return_to=${returnTo}`)
}

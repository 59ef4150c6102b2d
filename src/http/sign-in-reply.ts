/** Answers a successful sign-in (login or password change) on the transport it used. */
import type { FastifyReply } from 'fastify'
import type { SignIn } from '../core/application/sign-in.ts'
import { setSessionCookie } from './session-cookie.ts'
import { viewTokenSignIn, viewUser } from './views.ts'

export function replyWithSignIn(
  reply: FastifyReply,
  signIn: SignIn,
  deps: { createCsrfToken(sessionId: string): string; absoluteTimeoutSeconds: number },
) {
  if (signIn.sessionToken === null) return viewTokenSignIn(signIn)
  // Cookie transport: the session token goes only into the cookie, never into the body.
  setSessionCookie(reply, signIn.sessionToken, deps.absoluteTimeoutSeconds)
  return {
    session_id: signIn.session.id,
    csrf_token: deps.createCsrfToken(signIn.session.id),
    user: viewUser(signIn.user),
  }
}

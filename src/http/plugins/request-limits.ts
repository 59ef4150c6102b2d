/**
 * Per-network request limits on endpoints that take a credential but verify no password
 * (password verifications are throttled in the core). Registration counts every request; a
 * refresh counts only when it fails, so clients that refresh often are never slowed down. Each
 * request counts as a failure while it runs (so a burst cannot outrun the limit) and is settled
 * when its answer is sent.
 * Routes are listed by method and path so an endpoint added later needs one line here.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Application } from '../../core/application/application.ts'
import type { RequestAttempt, RequestKind } from '../../core/application/types.ts'

const limitedRoutes: Readonly<Record<string, RequestKind>> = {
  'POST /v1/auth/register': 'registration',
  'POST /v1/auth/refresh': 'refresh',
  'POST /v1/oauth/introspect': 'introspection',
  'POST /v1/oauth/revoke': 'revocation',
  'POST /v1/auth/password-reset': 'password_reset',
  'POST /v1/auth/password-reset/confirm': 'email_token',
  'POST /v1/me/email/verify': 'email_token',
  'POST /v1/auth/device': 'device',
}

// Introspection answers an unknown token with 200 {"active":false} (RFC 7662); for token
// scanning that answer is the failure to count.
const inactiveAnswer = '{"active":false}'

function isFailedAttempt(kind: RequestKind, statusCode: number, payload: unknown): boolean {
  if (statusCode >= 400 && statusCode < 500) return statusCode !== 429
  return kind === 'introspection' && payload === inactiveAnswer
}

export function registerRequestLimits(app: FastifyInstance, throttle: Application['requestLimits']): void {
  const attempts = new WeakMap<FastifyRequest, { kind: RequestKind; attempt: RequestAttempt }>()
  // Callback hooks: most requests are on no limited route and must not pay for a promise here.
  app.addHook('onRequest', (request, _reply, done) => {
    const kind = limitedRoutes[`${request.method} ${request.routeOptions.url}`]
    if (kind === undefined) {
      done()
      return
    }
    throttle.admitRequest(kind, request.ip).then(
      (attempt) => {
        attempts.set(request, { kind, attempt })
        done()
      },
      (error: unknown) => done(error as Error),
    )
  })
  app.addHook('onSend', (request, reply, payload, done) => {
    const limited = attempts.get(request)
    if (limited === undefined) {
      done(null, payload)
      return
    }
    attempts.delete(request)
    const settled = isFailedAttempt(limited.kind, reply.statusCode, payload)
      ? limited.attempt.recordFailure()
      : // The request counted as a failure while it ran; one that did not fail gives it back. A
        // refund the store cannot take leaves it counted (the stricter side) and must not turn a
        // done refresh into an error whose client never sees its new token.
        limited.attempt
          .recordSuccess()
          .catch((error: unknown) => request.log.warn({ err: error }, 'request limit refund failed'))
    settled.then(
      () => done(null, payload),
      (error: unknown) => done(error as Error),
    )
  })
}

/**
 * Per-network request limits on endpoints that take a credential but verify no password
 * (password verifications are throttled in the core). Registration counts every request; a
 * refresh counts only when it fails, so clients that refresh often are never slowed down. Each
 * request counts as a failure while it runs (so a burst cannot outrun the limit) and is settled
 * when its answer is sent.
 * Routes are listed by method and path so an endpoint added later needs one line here; the
 * listed routes get the hooks when they are registered, so register this before the routes.
 */
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, onSendHookHandler, RouteOptions } from 'fastify'
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

/** A route's own hooks of one kind as a list (Fastify takes one hook or several). */
function asList(hooks: RouteOptions['onRequest'] | RouteOptions['onSend']): unknown[] {
  if (hooks === undefined) return []
  return Array.isArray(hooks) ? hooks : [hooks]
}

export function registerRequestLimits(app: FastifyInstance, throttle: Application['requestLimits']): void {
  // The hooks go on the limited routes only: every other request passes no hook of this module.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const kind = methods.map((method) => limitedRoutes[`${method} ${route.url}`]).find((found) => found !== undefined)
    if (kind === undefined) return
    const attempts = new WeakMap<FastifyRequest, RequestAttempt>()
    const admit: onRequestHookHandler = (request, _reply, done) => {
      throttle.admitRequest(kind, request.ip).then(
        (attempt) => {
          attempts.set(request, attempt)
          done()
        },
        (error: unknown) => done(error as Error),
      )
    }
    const settle: onSendHookHandler = (request, reply, payload, done) => {
      const attempt = attempts.get(request)
      if (attempt === undefined) {
        done(null, payload)
        return
      }
      attempts.delete(request)
      const settled = isFailedAttempt(kind, reply.statusCode, payload)
        ? attempt.recordFailure()
        : // The request counted as a failure while it ran; one that did not fail gives it back. A
          // refund the store cannot take leaves it counted (the stricter side) and must not turn a
          // done refresh into an error whose client never sees its new token.
          attempt
            .recordSuccess()
            .catch((error: unknown) => request.log.warn({ err: error }, 'request limit refund failed'))
      settled.then(
        () => done(null, payload),
        (error: unknown) => done(error as Error),
      )
    }
    // Counted before the route's own checks (authentication), as when this was a hook of every route.
    route.onRequest = [admit, ...asList(route.onRequest)] as RouteOptions['onRequest']
    route.onSend = [...asList(route.onSend), settle] as RouteOptions['onSend']
  })
}

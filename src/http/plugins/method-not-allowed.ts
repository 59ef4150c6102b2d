/**
 * Answers 405 (with `Allow`) instead of 404 when a path exists but not for the method used, and
 * tells the CORS preflight which methods a path serves. Routes are collected as they are
 * registered; the router that matches a request's path against them is built on the first
 * question (the first unknown address, wrong method or preflight), not at start: a route per path
 * and method for these answers alone was a tenth of the start.
 */
import FindMyWay, { type HTTPMethod } from 'find-my-way'
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify'
import { TesseraError } from '../../core/errors.ts'
import { hasAnnouncedBody, sendProblem } from '../problem.ts'

// HEAD too: Fastify answered it wherever GET was, the 405 routes' included.
const answeredMethods: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

export interface RouteTable {
  /** The methods served at a request path (no query), as Fastify's router matches it; empty when none. */
  methodsAt(path: string): ReadonlySet<string>
}

/**
 * Collects the routes registered on `app` from now on. `routerOptions` are the ones Fastify was
 * given, so a path matches here exactly when it matches there.
 */
export function collectRoutes(
  app: FastifyInstance,
  routerOptions: { ignoreTrailingSlash: boolean; maxParamLength: number },
): RouteTable {
  const routes: Array<{ method: string; url: string }> = []
  app.addHook('onRoute', (route) => {
    // The CORS plugin's catch-all OPTIONS route serves no path of its own.
    if (route.url === '*') return
    for (const method of [route.method].flat()) routes.push({ method, url: route.url })
  })
  let router: ReturnType<typeof FindMyWay> | null = null
  const methods = new Set<string>()
  const build = () => {
    const built = FindMyWay(routerOptions)
    const noop = () => undefined
    for (const { method, url } of routes) {
      built.on(method as HTTPMethod, url, noop)
      methods.add(method)
    }
    return built
  }
  return {
    methodsAt(path) {
      router ??= build()
      const served = new Set<string>()
      for (const method of methods) {
        if (router.find(method as HTTPMethod, path) !== null) served.add(method)
      }
      return served
    },
  }
}

export function pathOf(request: FastifyRequest): string {
  const query = request.url.indexOf('?')
  return query === -1 ? request.url : request.url.slice(0, query)
}

function servedBesides(request: FastifyRequest, routes: RouteTable): ReadonlySet<string> | null {
  if (!answeredMethods.includes(request.method as HTTPMethods)) return null
  const served = routes.methodsAt(pathOf(request))
  return served.size > 0 ? served : null
}

/**
 * Unknown addresses are answered first of all, before their body is read: nobody, signed in or
 * not, gets a body parsed or buffered by sending it where no route takes one. When a body was
 * announced, the connection closes after the answer rather than reading it to keep the
 * connection. Register it before every other hook.
 */
export function answerUnknownAddresses(app: FastifyInstance, routes: RouteTable): void {
  // Callback hooks, as in stopping.ts: every request passes here, and nearly all go on at once.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (!request.is404 || servedBesides(request, routes) !== null) {
      done()
      return
    }
    if (hasAnnouncedBody(request)) reply.header('connection', 'close')
    sendProblem(reply, 'not_found', 'No resource at this address.')
  })
}

/**
 * A known address asked with a method it does not serve: 405 with `Allow`, also before the body
 * is read, but after the other hooks (CORS headers, request limits), as a route's own answer is.
 * Register it after every other hook.
 */
export function answerUnservedMethods(app: FastifyInstance, routes: RouteTable): void {
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    const served = request.is404 ? servedBesides(request, routes) : null
    if (served === null) {
      done()
      return
    }
    if (hasAnnouncedBody(request)) reply.header('connection', 'close')
    // OPTIONS answers CORS preflights only; it is no method of the resource itself.
    const allow = [...served].filter((method) => method !== 'OPTIONS' && (method !== 'HEAD' || served.has('GET')))
    reply.header('allow', allow.join(', '))
    done(new TesseraError('method_not_allowed', 'This method is not allowed here.'))
  })
}

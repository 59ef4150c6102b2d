/**
 * Glue for HTTP servers: a Fastify `onRequest` hook and a writer for plain Node responses. Both
 * are typed structurally, so the verifier depends on neither Fastify nor `node:http`.
 */
import { describeVerifierError, VerifierError } from './verifier-error.ts'
import {
  requireAuthenticationMethods,
  requireRecentAuthentication,
  requireRoles,
  type Principal,
  type RequestWithHeaders,
  type Verifier,
} from './verifier.ts'

/** The parts of a Fastify request the hook uses; declare `principal` with `decorateRequest`. */
export interface HookRequest extends RequestWithHeaders {
  principal?: Principal | null
  /** Fastify's underlying Node request: its raw header list is read without building `headers`. */
  raw?: RequestWithHeaders
}

/** The parts of a Fastify reply the hook uses. */
export interface HookReply {
  code(statusCode: number): HookReply
  header(name: string, value: string): HookReply
  send(payload?: unknown): HookReply
}

/**
 * A Fastify `onRequest` (or `preHandler`) hook: puts the caller on `request.principal`, or
 * answers 401 / 403 / 503 with problem+json and a `WWW-Authenticate` challenge.
 *
 * @example
 * ```ts
 * app.decorateRequest('principal', null)
 * app.addHook('onRequest', createFastifyAuthHook(verifier))
 * app.get('/admin/kick', { onRequest: createFastifyAuthHook(verifier, { roles: ['admin'] }) }, handler)
 * ```
 */
export function createFastifyAuthHook(
  verifier: Verifier,
  options: {
    roles?: readonly string[]
    /** Methods the token's `amr` must hold, for example `['mfa']`. */
    amr?: readonly string[]
    /** Longest time since the user authenticated (`auth_time`). */
    maxAuthAgeSeconds?: number
  } = {},
) {
  return async function authenticateWithTessera(
    request: HookRequest,
    reply: HookReply,
  ): Promise<HookReply | undefined> {
    try {
      const principal = await verifier.authenticateRequest(request.raw ?? request)
      if (options.roles) requireRoles(principal, options.roles)
      if (options.amr) requireAuthenticationMethods(principal, options.amr)
      if (options.maxAuthAgeSeconds !== undefined) requireRecentAuthentication(principal, options.maxAuthAgeSeconds)
      request.principal = principal
      return undefined
    } catch (error) {
      if (!(error instanceof VerifierError)) throw error
      const { status, headers, body } = describeVerifierError(error)
      reply.code(status)
      for (const [name, value] of Object.entries(headers)) reply.header(name, value)
      return reply.send(body)
    }
  }
}

/** The parts of a Node `ServerResponse` the writer uses. */
export interface WritableResponse {
  writeHead(statusCode: number, headers: Record<string, string>): unknown
  end(body: string): unknown
}

/**
 * Answers a refused request on a plain Node response; rethrows anything that is not a refusal.
 *
 * @example
 * ```ts
 * createServer(async (request, response) => {
 *   try {
 *     const principal = await verifier.authenticateRequest(request)
 *     response.end(`hello ${principal.userId}`)
 *   } catch (error) {
 *     sendVerifierError(response, error)
 *   }
 * })
 * ```
 */
export function sendVerifierError(response: WritableResponse, error: unknown): void {
  if (!(error instanceof VerifierError)) throw error
  const { status, headers, body } = describeVerifierError(error)
  response.writeHead(status, headers)
  response.end(body)
}

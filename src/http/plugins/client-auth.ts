/**
 * Service-client authentication for the OAuth endpoints: HTTP Basic with the client id and
 * secret (RFC 6749 §2.3.1 `client_secret_basic`; both parts form-encoded before base64). A
 * present but wrong, malformed or other-scheme Authorization header is always refused; whether
 * a missing one is acceptable is the route's decision.
 */
import { isUtf8 } from 'node:buffer'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { OAuthOperations } from '../../core/application/token-administration.ts'
import type { ServiceClientRecord } from '../../core/application/types.ts'
import { TesseraError } from '../../core/errors.ts'
import { readClientContext } from '../request-context.ts'

declare module 'fastify' {
  interface FastifyRequest {
    serviceClient: ServiceClientRecord | null
  }
}

export interface BasicCredentials {
  clientId: string
  clientSecret: string
}

const basicPattern = /^Basic ([A-Za-z0-9+/]+={0,2})$/i

function decodeFormComponent(text: string): string | null {
  // Most ids and secrets (base64url) need no decoding: skip the decoder's work for them.
  if (!text.includes('%') && !text.includes('+')) return text
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    return null
  }
}

/** The credentials of a Basic Authorization header, or null when it is not a well-formed one. */
export function readBasicCredentials(header: string): BasicCredentials | null {
  const encoded = basicPattern.exec(header)?.[1]
  if (encoded === undefined) return null
  const bytes = Buffer.from(encoded, 'base64')
  // Strict UTF-8: bytes that are not are refused rather than turned into U+FFFD.
  if (!isUtf8(bytes)) return null
  const decoded = bytes.toString('utf8')
  const separator = decoded.indexOf(':')
  if (separator === -1) return null
  const clientId = decodeFormComponent(decoded.slice(0, separator))
  const clientSecret = decodeFormComponent(decoded.slice(separator + 1))
  if (!clientId || !clientSecret) return null
  return { clientId, clientSecret }
}

export function refuseClient(reply: FastifyReply): TesseraError {
  reply.header('www-authenticate', 'Basic realm="tessera", charset="UTF-8"')
  return new TesseraError('invalid_client', 'Client authentication failed.')
}

/** onRequest: sets `request.serviceClient` from a valid Basic header, null without one. */
export function createClientAuthenticate(
  oauth: Pick<OAuthOperations, 'authenticateServiceClient'>,
): onRequestHookHandler {
  return async function authenticateClient(request: FastifyRequest, reply: FastifyReply) {
    request.serviceClient = null
    const authorization = request.headers.authorization
    if (authorization === undefined) return
    const credentials = readBasicCredentials(authorization)
    const client = credentials
      ? await oauth.authenticateServiceClient(
          credentials.clientId,
          credentials.clientSecret,
          readClientContext(request),
        )
      : null
    if (!client) throw refuseClient(reply)
    request.serviceClient = client
  }
}

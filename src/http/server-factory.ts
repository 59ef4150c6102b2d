/**
 * The Node server under Fastify: plain HTTP/1.1, or HTTPS/1.1 when a certificate is given, with
 * the limits that protect it from slow and oversized clients. Node checks its request and header
 * timeouts only every `connectionsCheckingInterval` (30 s by default), so that is shortened too;
 * a stalled or trickled request is answered 408 within the request timeout plus that interval.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'

/** PEM text of the certificate chain and its private key. */
export interface TlsMaterial {
  cert: string
  key: string
}

export interface ServerLimits {
  requestTimeoutSeconds: number
  headersTimeoutSeconds: number
}

/** Node's own default: larger request headers are refused with 431. */
export const maxHeaderBytes = 16 * 1024
const checkingIntervalMs = 250
/** How long an idle keep-alive connection stays open between requests. */
const keepAliveMs = 10_000

type Handler = (request: IncomingMessage, response: ServerResponse) => void

export function createNodeServer(handler: Handler, limits: ServerLimits, tls: TlsMaterial | null): Server {
  const requestTimeout = limits.requestTimeoutSeconds * 1000
  const options = {
    requestTimeout,
    // Node refuses a header timeout longer than the request timeout.
    headersTimeout: Math.min(limits.headersTimeoutSeconds * 1000, requestTimeout),
    connectionsCheckingInterval: checkingIntervalMs,
    keepAliveTimeout: keepAliveMs,
    maxHeaderSize: maxHeaderBytes,
    requireHostHeader: true,
  }
  const server = tls
    ? // An https.Server emits the same request events; Fastify drives it as an http.Server.
      (createHttpsServer(
        { ...options, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' },
        handler,
      ) as unknown as Server)
    : createHttpServer(options, handler)
  // Silent and slow senders are answered 408 by the timeouts above; this closes a socket on which
  // nothing moves at all (a client that stops reading its answer), after the keep-alive window.
  server.setTimeout(keepAliveMs + requestTimeout)
  return server
}

/**
 * Answers requests that never reach Fastify because Node's parser refused them: oversized
 * headers (431), a request not received in time (408), and malformed or ambiguous framing such
 * as Content-Length together with Transfer-Encoding (400, the request-smuggling defence). The
 * answer is a problem document with the usual security headers, and the connection is closed.
 */
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { ErrorCode } from '../core/errors.ts'
import { problemContentType, problemTable } from './problem.ts'
import { strictTransportSecurity } from './plugins/strict-transport.ts'

function classifyClientError(error: Error & { code?: string }): { code: ErrorCode; detail: string } {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { code: 'request_timeout', detail: 'The request was not received in time.' }
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return { code: 'headers_too_large', detail: 'The request headers are too large.' }
  }
  return { code: 'validation_failed', detail: 'The request is not valid HTTP/1.1.' }
}

export function createClientErrorHandler(isHttps: boolean) {
  return function answerClientError(error: Error & { code?: string }, socket: Socket): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return
    const { code, detail } = classifyClientError(error)
    const { status, title } = problemTable[code]
    const body = JSON.stringify({
      type: `urn:tessera:problem:${code}`,
      title,
      status,
      code,
      detail,
      instance: `urn:tessera:request:${randomUUID()}`,
    })
    const headers = [
      `HTTP/1.1 ${status} ${title}`,
      `content-type: ${problemContentType}`,
      `content-length: ${Buffer.byteLength(body)}`,
      'x-content-type-options: nosniff',
      "content-security-policy: default-src 'none'; frame-ancestors 'none'",
      'x-frame-options: DENY',
      'referrer-policy: no-referrer',
      'cache-control: no-store',
      'connection: close',
      ...(isHttps ? [`strict-transport-security: ${strictTransportSecurity}`] : []),
    ]
    if (!socket.writable) {
      socket.destroy()
      return
    }
    // The parser has stopped reading this socket: close it once the answer is flushed, rather than
    // wait for a FIN it would never read.
    socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy())
  }
}

/**
 * One HTTP exchange with Tessera: JSON in and out, the credential of the transport, a bound on
 * the whole call, and failures turned into `TesseraError`.
 */
import { readTesseraError, TesseraError } from './tessera-error.ts'

/**
 * How the session travels: bearer tokens, or Tessera's HttpOnly session cookie.
 *
 * @example
 * ```ts
 * import { createTesseraClient, type Transport } from 'tessera/client'
 *
 * const transport: Transport = location.hostname.endsWith('.example.com') ? 'cookie' : 'token'
 * const client = createTesseraClient({ baseUrl: 'https://auth.example.com', transport })
 * ```
 */
export type Transport = 'token' | 'cookie'

export interface HttpExchange {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  body?: unknown
  /** The body's media type; application/json by default. */
  contentType?: string
  /** Other headers (for example If-Match). */
  headers?: Record<string, string>
  /** Token transport: the access token to send. */
  bearer?: string | null
  /** Cookie transport: sent on unsafe methods, for clients that send no `Origin`. */
  csrfToken?: string | null
}

export interface TesseraHttp {
  /** Sends the request; throws `network_error` when no answer came. */
  send(path: string, exchange?: HttpExchange): Promise<Response>
  /** The JSON body of a successful answer (undefined for 204); throws the problem of any other. */
  readAnswer<T>(response: Response): Promise<T>
}

export function createTesseraHttp(options: {
  baseUrl: string
  transport: Transport
  fetch: typeof fetch
  timeoutSeconds: number
}): TesseraHttp {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  return {
    async send(
      path,
      {
        method = 'GET',
        body,
        bearer = null,
        csrfToken = null,
        contentType = 'application/json',
        headers: extra = {},
      } = {},
    ) {
      const headers: Record<string, string> = { ...extra, accept: 'application/json' }
      if (body !== undefined) headers['content-type'] = contentType
      if (bearer !== null) headers.authorization = `Bearer ${bearer}`
      if (csrfToken !== null && method !== 'GET') headers['x-csrf-token'] = csrfToken
      try {
        return await options.fetch(`${baseUrl}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          // Token transport never sends cookies: a cookie beside a bearer token is refused as ambiguous.
          credentials: options.transport === 'cookie' ? 'include' : 'omit',
          signal: AbortSignal.timeout(options.timeoutSeconds * 1000),
        })
      } catch (error) {
        throw new TesseraError('network_error', { title: 'Tessera could not be reached', cause: error })
      }
    },

    async readAnswer<T>(response: Response): Promise<T> {
      if (!response.ok) throw await readTesseraError(response)
      if (response.status === 204) return undefined as T
      try {
        return (await response.json()) as T
      } catch (error) {
        throw new TesseraError('unexpected_response', {
          status: response.status,
          title: 'The answer is not JSON',
          cause: error,
        })
      }
    },
  }
}

/**
 * The one error type of the verifier. Its `code` is what a resource server branches on, and
 * `status` and `challenge` are what it should answer (RFC 6750 §3). Messages never say which
 * check failed: that is for the log of the caller, not for the client.
 */

/**
 * - `missing_token`: no bearer token in the request (401).
 * - `invalid_token`: malformed, forged, expired, for another issuer or audience, unknown key,
 *   or no longer active at Tessera (401).
 * - `insufficient_role`: a valid token without a required role (403).
 * - `insufficient_user_authentication`: a valid token whose authentication is too old or lacks
 *   a required method (`amr`), RFC 9470: the client re-authenticates at Tessera and retries (401).
 * - `unavailable`: Tessera's JWKS or introspection could not be reached; fail closed (503).
 */
export type VerifierErrorCode =
  'missing_token' | 'invalid_token' | 'insufficient_role' | 'insufficient_user_authentication' | 'unavailable'

const statusByCode: Record<VerifierErrorCode, 401 | 403 | 503> = {
  missing_token: 401,
  invalid_token: 401,
  insufficient_role: 403,
  insufficient_user_authentication: 401,
  unavailable: 503,
}

const challengeByCode: Record<VerifierErrorCode, string | null> = {
  missing_token: 'Bearer',
  invalid_token: 'Bearer error="invalid_token"',
  insufficient_role: 'Bearer error="insufficient_scope"',
  insufficient_user_authentication: 'Bearer error="insufficient_user_authentication"',
  unavailable: null,
}

/**
 * A refused request.
 *
 * @example
 * ```ts
 * try {
 *   const principal = await verifier.authenticateRequest(request)
 * } catch (error) {
 *   if (error instanceof VerifierError) reply(error.status, error.code)
 *   else throw error
 * }
 * ```
 */
export class VerifierError extends Error {
  readonly code: VerifierErrorCode
  readonly status: 401 | 403 | 503
  /** The `WWW-Authenticate` value to send, or null (503). */
  readonly challenge: string | null

  constructor(code: VerifierErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'VerifierError'
    this.code = code
    this.status = statusByCode[code]
    this.challenge = challengeByCode[code]
  }
}

/** The HTTP answer to a refusal: status, headers and a problem+json body with no detail. */
export interface VerifierErrorResponse {
  status: 401 | 403 | 503
  headers: Record<string, string>
  body: string
}

const titles: Record<VerifierErrorCode, string> = {
  missing_token: 'Authentication required',
  invalid_token: 'Invalid token',
  insufficient_role: 'Forbidden',
  insufficient_user_authentication: 'Stronger or more recent authentication required',
  unavailable: 'Service unavailable',
}

/**
 * Renders a VerifierError as an `application/problem+json` answer (RFC 9457).
 *
 * @example
 * ```ts
 * const { status, headers, body } = describeVerifierError(error)
 * response.writeHead(status, headers).end(body)
 * ```
 */
export function describeVerifierError(error: VerifierError): VerifierErrorResponse {
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json; charset=utf-8',
    'cache-control': 'no-store',
  }
  if (error.challenge !== null) headers['www-authenticate'] = error.challenge
  if (error.code === 'unavailable') headers['retry-after'] = '5'
  const body = JSON.stringify({
    type: `urn:tessera:problem:${error.code}`,
    title: titles[error.code],
    status: error.status,
    code: error.code,
  })
  return { status: error.status, headers, body }
}

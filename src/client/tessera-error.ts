/**
 * The one error type of the SDK: a refusal from Tessera (its problem+json `code`), or a failure
 * on the way there (`network_error`, `unexpected_response`, `not_signed_in`). Branch on `code`;
 * `title` and `detail` are for people.
 */

/**
 * The codes Tessera answers with (docs/errors.md), in the server's own order. A test keeps this
 * list equal to the server's.
 */
export const serverErrorCodes = [
  'validation_failed',
  'invalid_username',
  'password_too_short',
  'password_too_long',
  'password_invalid',
  'password_blocklisted',
  'username_taken',
  'invalid_credentials',
  'unauthenticated',
  'invalid_token',
  'invalid_grant',
  'forbidden',
  'csrf_rejected',
  'ambiguous_credentials',
  'not_found',
  'method_not_allowed',
  'unsupported_media_type',
  'payload_too_large',
  'headers_too_large',
  'request_timeout',
  'rate_limited',
  'server_busy',
  'service_unavailable',
  'internal_error',
  'invalid_client',
  'client_name_taken',
  'cookie_session_required',
  'mfa_required',
  'invalid_mfa_code',
  'invalid_mfa_challenge',
  'reauthentication_required',
  'mfa_enrolment_required',
  'mfa_already_enrolled',
  'passkey_rejected',
  'invalid_email',
  'email_taken',
  'email_not_set',
  'invalid_email_token',
  'mail_disabled',
  'session_limit_reached',
  'precondition_required',
  'precondition_failed',
  'data_too_large',
  'invalid_ticket',
  'device_taken',
  'last_admin',
  'password_change_required',
] as const

/** Failures the SDK itself names: no answer, an answer that is no problem document, no session. */
export const clientErrorCodes = ['network_error', 'unexpected_response', 'not_signed_in'] as const

/**
 * A code of {@link TesseraError}. A newer server may send codes this SDK does not list yet, so
 * any string is accepted while the known ones autocomplete.
 *
 * @example
 * ```ts
 * import type { TesseraErrorCode } from 'tessera/client'
 *
 * const retryable: TesseraErrorCode[] = ['rate_limited', 'server_busy', 'service_unavailable']
 * ```
 */
export type TesseraErrorCode =
  (typeof serverErrorCodes)[number] | (typeof clientErrorCodes)[number] | (string & Record<never, never>)

/**
 * A refused or failed call.
 *
 * @example
 * ```ts
 * import { TesseraError } from 'tessera/client'
 *
 * try {
 *   await client.signIn({ username, password })
 * } catch (error) {
 *   if (error instanceof TesseraError && error.code === 'invalid_credentials') showWrongPassword()
 *   else if (error instanceof TesseraError && error.code === 'rate_limited') wait(error.retryAfterSeconds)
 *   else throw error
 * }
 * ```
 */
export class TesseraError extends Error {
  /** The stable code: a server code of docs/errors.md, or `network_error`, `unexpected_response`, `not_signed_in`. */
  readonly code: TesseraErrorCode
  /** The HTTP status, or 0 when there was no answer. */
  readonly status: number
  readonly title: string
  readonly detail: string | null
  /** Seconds to wait before trying again (`Retry-After`), when the server said. */
  readonly retryAfterSeconds: number | null
  /** The whole problem document (for example `errors` of `validation_failed`), or null. */
  readonly problem: Readonly<Record<string, unknown>> | null

  constructor(
    code: TesseraErrorCode,
    fields: {
      status?: number
      title: string
      detail?: string | null
      retryAfterSeconds?: number | null
      problem?: Record<string, unknown> | null
      cause?: unknown
    },
  ) {
    super(fields.detail ?? fields.title, fields.cause === undefined ? undefined : { cause: fields.cause })
    this.name = 'TesseraError'
    this.code = code
    this.status = fields.status ?? 0
    this.title = fields.title
    this.detail = fields.detail ?? null
    this.retryAfterSeconds = fields.retryAfterSeconds ?? null
    this.problem = fields.problem ?? null
  }
}

function readRetryAfterSeconds(response: Response, problem: Record<string, unknown> | null): number | null {
  const header = response.headers.get('retry-after')
  if (header !== null && /^\d+$/.test(header.trim())) return Number(header.trim())
  const fromBody = problem?.retry_after
  return typeof fromBody === 'number' && Number.isFinite(fromBody) ? fromBody : null
}

/**
 * The error an unsuccessful answer stands for. Reads the body: call it once, on an unread response.
 *
 * @example
 * ```ts
 * import { readTesseraError } from 'tessera/client'
 *
 * const response = await fetch(`${tesseraUrl}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
 * if (!response.ok) throw await readTesseraError(response)
 * ```
 */
export async function readTesseraError(response: Response): Promise<TesseraError> {
  let problem: Record<string, unknown> | null = null
  if ((response.headers.get('content-type') ?? '').startsWith('application/problem+json')) {
    try {
      const body: unknown = await response.json()
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) problem = body as Record<string, unknown>
    } catch {
      // A problem document that does not parse is reported as an unexpected answer below.
      problem = null
    }
  }
  const code = typeof problem?.code === 'string' ? problem.code : 'unexpected_response'
  return new TesseraError(code, {
    status: response.status,
    title: typeof problem?.title === 'string' ? problem.title : `Unexpected answer (HTTP ${response.status})`,
    detail: typeof problem?.detail === 'string' ? problem.detail : null,
    retryAfterSeconds: readRetryAfterSeconds(response, problem),
    problem,
  })
}

/**
 * What an `mfa_required` refusal of a sign-in carries for the second step.
 *
 * @example
 * ```ts
 * import { readSecondFactorChallenge, type SecondFactorChallenge } from 'tessera/client'
 *
 * const second: SecondFactorChallenge | null = readSecondFactorChallenge(error)
 * if (second?.methods.includes('totp')) showCodeField(second.expiresInSeconds)
 * ```
 */
export interface SecondFactorChallenge {
  challenge: string
  /** The proofs the account can give: `totp`, `recovery_code`, `passkey`. */
  methods: string[]
  expiresInSeconds: number
}

/**
 * The second-step challenge of a sign-in refused with `mfa_required`, or null for any other error.
 *
 * @example
 * ```ts
 * import { readSecondFactorChallenge } from 'tessera/client'
 *
 * try {
 *   await client.signIn({ username, password })
 * } catch (error) {
 *   const second = readSecondFactorChallenge(error)
 *   if (!second) throw error
 *   await client.completeSignIn({ challenge: second.challenge, code: await askForCode() })
 * }
 * ```
 */
export function readSecondFactorChallenge(error: unknown): SecondFactorChallenge | null {
  if (!(error instanceof TesseraError) || error.code !== 'mfa_required') return null
  const { mfa_challenge: challenge, mfa_methods: methods, expires_in: expiresIn } = error.problem ?? {}
  if (typeof challenge !== 'string') return null
  return {
    challenge,
    methods: Array.isArray(methods) ? methods.filter((method): method is string => typeof method === 'string') : [],
    expiresInSeconds: typeof expiresIn === 'number' ? expiresIn : 0,
  }
}

/**
 * The stable error codes of Tessera's public API. A code is a contract: clients branch on it,
 * so a code is never renamed or reused for another meaning (docs/errors.md lists them all).
 */
export const errorCodes = [
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

export type ErrorCode = (typeof errorCodes)[number]

/** A refused operation. The message is for humans and never carries a secret or echoes input. */
export class TesseraError extends Error {
  readonly code: ErrorCode
  /** Structured, non-secret details (for example which field failed), safe to send. */
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TesseraError'
    this.code = code
    this.details = options.details
  }
}

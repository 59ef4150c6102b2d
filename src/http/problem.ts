/**
 * The one table from error codes to HTTP, and the one error and not-found handler. Every error
 * leaves as `application/problem+json` (RFC 9457) with a stable `code`; internal causes are
 * logged with the request id and never sent.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TesseraError, type ErrorCode } from '../core/errors.ts'

export const problemTable: Record<ErrorCode, { status: number; title: string }> = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_username: { status: 400, title: 'The username is not valid' },
  password_too_short: { status: 400, title: 'The password is too short' },
  password_too_long: { status: 400, title: 'The password is too long' },
  password_invalid: { status: 400, title: 'The password is not valid' },
  password_blocklisted: { status: 400, title: 'The password is too easy to guess' },
  username_taken: { status: 409, title: 'The username is taken' },
  invalid_credentials: { status: 401, title: 'Invalid credentials' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  invalid_token: { status: 401, title: 'Invalid token' },
  invalid_grant: { status: 400, title: 'Invalid grant' },
  forbidden: { status: 403, title: 'Forbidden' },
  csrf_rejected: { status: 403, title: 'Cross-site request refused' },
  ambiguous_credentials: { status: 400, title: 'More than one credential' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  headers_too_large: { status: 431, title: 'Request headers too large' },
  request_timeout: { status: 408, title: 'Request timeout' },
  rate_limited: { status: 429, title: 'Too many attempts' },
  server_busy: { status: 503, title: 'Server busy' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  internal_error: { status: 500, title: 'Internal error' },
  invalid_client: { status: 401, title: 'Client authentication failed' },
  client_name_taken: { status: 409, title: 'The client name is taken' },
  cookie_session_required: { status: 400, title: 'A cookie session is required' },
  mfa_required: { status: 401, title: 'A second factor is required' },
  invalid_mfa_code: { status: 401, title: 'Invalid second factor' },
  invalid_mfa_challenge: { status: 401, title: 'Invalid or expired sign-in challenge' },
  reauthentication_required: { status: 403, title: 'Re-authentication required' },
  mfa_enrolment_required: { status: 403, title: 'Second-factor enrolment required' },
  mfa_already_enrolled: { status: 409, title: 'A second factor is already enrolled' },
  passkey_rejected: { status: 400, title: 'The passkey was not accepted' },
  invalid_email: { status: 400, title: 'The email address is not valid' },
  email_taken: { status: 409, title: 'The email address is taken' },
  email_not_set: { status: 409, title: 'The account has no email address' },
  invalid_email_token: { status: 400, title: 'Invalid or expired link' },
  mail_disabled: { status: 404, title: 'This server sends no mail' },
  session_limit_reached: { status: 409, title: 'Too many sessions' },
  precondition_required: { status: 428, title: 'If-Match required' },
  precondition_failed: { status: 412, title: 'The data changed since it was read' },
  data_too_large: { status: 413, title: 'The data is too large' },
  invalid_ticket: { status: 400, title: 'Invalid ticket' },
  device_taken: { status: 409, title: 'The device is linked already' },
  last_admin: { status: 409, title: 'The last administrator must stay' },
  password_change_required: { status: 403, title: 'A new password is required' },
}

export const problemContentType = 'application/problem+json; charset=utf-8'

export interface ValidationIssue {
  field: string
  message: string
}

export interface ProblemBody {
  type: string
  title: string
  status: number
  code: ErrorCode
  detail?: string
  instance: string
  errors?: ValidationIssue[]
  [extra: string]: unknown
}

export function renderProblem(
  request: FastifyRequest,
  code: ErrorCode,
  detail: string | undefined,
  extra: Record<string, unknown> = {},
): ProblemBody {
  const { status, title } = problemTable[code]
  return {
    type: `urn:tessera:problem:${code}`,
    title,
    status,
    code,
    ...(detail === undefined ? {} : { detail }),
    instance: `urn:tessera:request:${request.id}`,
    ...extra,
  }
}

/** Sends a problem; extra headers (WWW-Authenticate, Retry-After, Allow) are set by the caller. */
export function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  detail?: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  const body = renderProblem(reply.request, code, detail, extra)
  return reply.code(body.status).type(problemContentType).send(JSON.stringify(body))
}

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_failed',
  FST_ERR_BAD_URL: 'not_found',
  FST_ERR_ASYNC_CONSTRAINT: 'not_found',
  // A path parameter longer than any identifier (routerOptions.maxParamLength) names nothing.
  FST_ERR_MAX_PARAM_LENGTH: 'not_found',
}

function describeValidation(error: FastifyError): ValidationIssue[] {
  // Only the location and Ajv's generic message: never the rejected value itself.
  return (error.validation ?? []).map((issue) => {
    const missing = issue.keyword === 'required' ? `/${String(issue.params.missingProperty)}` : ''
    const extra = issue.keyword === 'additionalProperties' ? `/${String(issue.params.additionalProperty)}` : ''
    return {
      field: `${error.validationContext ?? 'body'}${issue.instancePath}${missing}${extra}`,
      message: issue.message ?? 'is not valid',
    }
  })
}

function classify(error: FastifyError): { code: ErrorCode; detail?: string; errors?: ValidationIssue[] } {
  if (error instanceof TesseraError) {
    return { code: error.code, detail: error.message }
  }
  if (error.validation) {
    return {
      code: 'validation_failed',
      detail: 'Some fields are missing or not valid.',
      errors: describeValidation(error),
    }
  }
  const mapped = error.code ? fastifyCodes[error.code] : undefined
  if (mapped) return { code: mapped }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return { code: 'validation_failed', detail: 'The request body is not valid JSON.' }
  }
  if (error.statusCode === 413) return { code: 'payload_too_large' }
  if (error.statusCode === 415) return { code: 'unsupported_media_type' }
  if (error.statusCode === 408) return { code: 'request_timeout' }
  if (error.statusCode === 404) return { code: 'not_found' }
  return { code: 'internal_error' }
}

/** Names the body type the route takes: forms on the OAuth endpoints, JSON everywhere else. */
function describeExpectedMediaType(request: FastifyRequest): string {
  const type = request.server.hasContentTypeParser('application/x-www-form-urlencoded')
    ? 'application/x-www-form-urlencoded'
    : 'application/json'
  return `Send the body as ${type} in UTF-8 (Content-Type: ${type}).`
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const classified = classify(error)
    const { code, errors } = classified
    const detail =
      code === 'unsupported_media_type' && classified.detail === undefined
        ? describeExpectedMediaType(request)
        : classified.detail
    if (code === 'internal_error') {
      request.log.error({ err: error }, 'request failed')
    } else if (code === 'server_busy') {
      reply.header('retry-after', '1')
    } else if (code === 'rate_limited' && error instanceof TesseraError) {
      reply.header('retry-after', String(error.details?.retry_after ?? 1))
    } else if (code === 'service_unavailable') {
      // A store did not answer: the cause (driver message) is logged, never sent.
      request.log.warn({ err: error.cause ?? error }, 'store unavailable')
      reply.header('retry-after', '1')
    }
    if (error instanceof TesseraError && error.details) {
      return sendProblem(reply, code, detail, error.details)
    }
    return sendProblem(reply, code, detail, errors ? { errors } : {})
  })
  // Unknown addresses are answered in an onRequest hook, before any body is read (see
  // answerUnknownAddresses in plugins/method-not-allowed.ts); this is for callNotFound.
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, 'not_found', 'No resource at this address.'))
}

export function hasAnnouncedBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length']
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * Fastify's `frameworkErrors`: errors found while routing (an over-long path parameter, a bad
 * percent-encoding) would otherwise be answered with the framework's own JSON, which echoes the
 * path and skips every hook. They become problem documents like any other error.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { code } = classify(error)
  if (hasAnnouncedBody(request)) reply.header('connection', 'close')
  sendProblem(reply, code, code === 'not_found' ? 'No resource at this address.' : undefined)
}

/**
 * Shapes shared by several routes, registered once by `$id` and referenced as `{ $ref: 'User#' }`.
 * Response schemas are also allow-lists: fast-json-stringify sends only the declared properties.
 */
import { errorCodes } from '../../core/errors.ts'

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'An RFC 9457 problem. `code` is stable; see docs/errors.md.',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', enum: [...errorCodes] },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  required: ['type', 'title', 'status', 'code', 'instance'],
} as const

export const userSchema = {
  $id: 'User',
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    username: {
      type: ['string', 'null'],
      description: 'Null for a guest account (made by a device sign-in), until it adds a username.',
    },
    roles: { type: 'array', items: { type: 'string' } },
    created_at: { type: 'string', format: 'date-time' },
    disabled_at: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'When an administrator disabled the account; null while it is enabled.',
    },
    password_change_required: {
      type: 'boolean',
      description:
        'An administrator requires a new password: every route but `POST /v1/me/password`, `GET /v1/me` and sign-out answers `password_change_required` until then.',
    },
  },
  required: ['id', 'username', 'roles', 'created_at', 'disabled_at', 'password_change_required'],
} as const

export const sessionSchema = {
  $id: 'Session',
  type: 'object',
  description: 'A session as its owner sees it. `id` is a public handle, never a credential.',
  properties: {
    id: { type: 'string' },
    transport: { type: 'string', enum: ['cookie', 'token'] },
    created_at: { type: 'string', format: 'date-time' },
    last_seen_at: { type: 'string', format: 'date-time' },
    expires_at: { type: 'string', format: 'date-time' },
    ip: { type: 'string' },
    user_agent: { type: 'string' },
    current: { type: 'boolean' },
    authenticated_at: {
      type: 'string',
      format: 'date-time',
      description: 'The latest authentication: the sign-in or a re-authentication.',
    },
    amr: {
      type: 'array',
      items: { type: 'string' },
      description: 'How it was made (RFC 8176): pwd, otp, hwk, swk, user, mfa.',
    },
  },
  required: ['id', 'transport', 'created_at', 'last_seen_at', 'expires_at', 'ip', 'user_agent', 'current'],
} as const

export const signInSchema = {
  $id: 'SignIn',
  type: 'object',
  description:
    'Token transport: OAuth 2.0 token fields. Cookie transport: the session travels only in the cookie; `csrf_token` is for clients that send neither Origin nor Sec-Fetch-Site.',
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string' },
    session_id: { type: 'string' },
    csrf_token: { type: 'string' },
    user: { $ref: 'User#' },
  },
  required: ['session_id', 'user'],
} as const

export const sharedSchemas = [problemSchema, userSchema, sessionSchema, signInSchema]

/** Problem responses for the given statuses, for a route's `response` schema. */
export function problemResponses(...statuses: number[]): Record<number, { $ref: string }> {
  return Object.fromEntries(statuses.map((status) => [status, { $ref: 'Problem#' }]))
}

/** A username or password field: length is checked by the domain in code points, this only bounds input. */
export const usernameField = { type: 'string', minLength: 1, maxLength: 256 } as const
export const passwordField = { type: 'string', minLength: 1, maxLength: 4096 } as const

/** The `{id}` of admin routes about a user: the user's id, or the username in any spelling. */
export const userReferenceParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 256, description: 'The user id, or the username.' } },
  required: ['id'],
} as const

/** OpenAPI security of routes that take either credential. */
export const authSecurity: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }]

/** What the page route plugins share: contexts, the form guard, and the settings they read. */
import type { FastifyRequest } from 'fastify'
import type { SignInOperations } from '../core/application/sign-in.ts'
import type { FormGuard } from './form-guard.ts'
import type { PageContextFactory } from './page-context.ts'
import { parseReturnTo, type ReturnTo } from './return-to.ts'

export interface PageSettingsSlice {
  publicOrigin: string
  allowedOrigins: readonly string[]
  absoluteTimeoutSeconds: number
  passwordMinLength: number
  /** Whether mail is sent: the sign-in page offers "forgot your password?" only then. */
  isMailEnabled: boolean
}

export interface PageKit {
  contexts: PageContextFactory
  formGuard: FormGuard
  signIn: SignInOperations
  settings: PageSettingsSlice
}

/** Page forms are small: a password is at most 1 KiB, and nothing else is long. */
export const pageBodyLimitBytes = 16 * 1024

/** The JSON schema of a form body with these (text) fields, and nothing else; 4096 characters unless told. */
export function formBodySchema(
  fields: readonly string[],
  required: readonly string[] = [],
  maxLengths: Readonly<Record<string, number>> = {},
) {
  return {
    type: 'object',
    properties: Object.fromEntries(
      fields.map((field) => [field, { type: 'string', maxLength: maxLengths[field] ?? 4096 }]),
    ),
    required,
    additionalProperties: false,
  } as const
}

export const hiddenRoute = { hide: true } as const

/**
 * A `return_to` as sent: absent is fine (undefined), present must be allowed (ReturnTo) or the
 * request is refused (null).
 */
export function readReturnTo(kit: PageKit, value: string | undefined): ReturnTo | undefined | null {
  if (value === undefined || value === '') return undefined
  return parseReturnTo(value, kit.settings.publicOrigin, kit.settings.allowedOrigins)
}

export function requestPath(request: FastifyRequest): string {
  return new URL(request.url, 'http://page.invalid').pathname
}

/**
 * Refusals of the application operations as messages tied to a form's fields, in the page's
 * language. Codes the form cannot help with return null: the caller rethrows them, and the error
 * page answers.
 */
import type { FastifyReply } from 'fastify'
import { TesseraError } from '../core/errors.ts'
import type { Translate } from './i18n/languages.ts'

export interface FieldNames {
  username?: string
  password?: string
}

const blocklistReasons = ['common', 'repetitive', 'sequential', 'context'] as const

export function describeRefusal(
  t: Translate,
  error: unknown,
  fields: FieldNames,
): { field: string; message: string } | null {
  if (!(error instanceof TesseraError)) return null
  const details = error.details ?? {}
  const password = fields.password
  switch (error.code) {
    case 'invalid_username':
      return fields.username ? { field: fields.username, message: t('error.invalid_username') } : null
    case 'username_taken':
      return fields.username ? { field: fields.username, message: t('error.username_taken') } : null
    case 'password_too_short':
      return password
        ? { field: password, message: t('error.password_too_short', { min: Number(details.min_length ?? 15) }) }
        : null
    case 'password_too_long':
      return password
        ? { field: password, message: t('error.password_too_long', { max: Number(details.max_length ?? 1024) }) }
        : null
    case 'password_invalid':
      return password ? { field: password, message: t('error.password_invalid') } : null
    case 'password_blocklisted': {
      const reason = blocklistReasons.find((known) => known === details.reason) ?? 'common'
      return password ? { field: password, message: t(`error.password_blocklisted.${reason}`) } : null
    }
    case 'rate_limited':
      return { field: 'form', message: t('error.rate_limited', { seconds: Number(details.retry_after ?? 1) }) }
    case 'validation_failed':
      return { field: 'form', message: t('error.validation_failed') }
    default:
      return null
  }
}

/** The status a form answered with an error gets; a throttled one says when to come back. */
export function statusOfRefusal(reply: FastifyReply, error: unknown): number {
  if (!(error instanceof TesseraError)) return 400
  if (error.code === 'rate_limited') {
    reply.header('retry-after', String(error.details?.retry_after ?? 1))
    return 429
  }
  if (error.code === 'username_taken') return 409
  if (error.code === 'invalid_credentials') return 401
  return 400
}

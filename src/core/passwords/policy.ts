/**
 * Password rules from NIST SP 800-63B-4: a minimum length counted in visible characters both as
 * sent and after NFKC (see password-length.ts), any Unicode, no composition rules, never
 * trimmed, case-folded or truncated.
 */
import { TesseraError } from '../errors.ts'
import { measurePasswordLength } from './password-length.ts'

export interface PasswordPolicy {
  minLength: number
  maxLength: number
}

/**
 * NFKC of the password exactly as received. Lone surrogates are refused because UTF-8 encoding
 * would turn every one of them into U+FFFD, making different inputs hash to the same value.
 */
export function normalizePassword(password: string): string {
  if (!password.isWellFormed()) {
    throw new TesseraError('password_invalid', 'The password contains an invalid character sequence.')
  }
  return password.normalize('NFKC')
}

function countCodePoints(text: string): number {
  let count = 0
  for (const _ of text) count += 1
  return count
}

/**
 * Throws when a new password breaks the policy; the error never echoes it. `asSent` is the
 * password as received, `normalized` its NFKC form: the minimum must hold for both.
 */
export function assertPasswordAcceptable(asSent: string, normalized: string, policy: PasswordPolicy): void {
  if (measurePasswordLength(asSent, normalized) < policy.minLength) {
    throw new TesseraError(
      'password_too_short',
      `The password must be at least ${policy.minLength} characters long (spaces count once between words; invisible characters and lone accents do not count).`,
      { details: { min_length: policy.minLength } },
    )
  }
  if (countCodePoints(normalized) > policy.maxLength) {
    throw new TesseraError('password_too_long', `The password must be at most ${policy.maxLength} characters long.`, {
      details: { max_length: policy.maxLength },
    })
  }
}

/**
 * The most UTF-8 bytes a password may have as sent (SECURITY.md PW-02): enough for 256 code
 * points of any script, or 1024 ASCII characters, and checked before any normalisation or hashing.
 */
export const maxPasswordBytes = 1024

/** True when the raw input is too long to be worth hashing (checked before any argon2 work). */
export function isPasswordOversized(password: string, policy: PasswordPolicy): boolean {
  return password.length > policy.maxLength * 4 || Buffer.byteLength(password, 'utf8') > maxPasswordBytes
}

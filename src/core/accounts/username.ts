/**
 * Usernames: NFKC, then case-mapped for uniqueness (in the spirit of PRECIS UsernameCaseMapped,
 * RFC 8265), so `Alice`, `alice` and fullwidth `ＡＬＩＣＥ` are one name.
 *
 * The allowed set, after NFKC: letters, combining marks and decimal digits of any script, plus
 * `.`, `_` and `-`; the first character is a letter or digit; 3 to 64 code points. Everything
 * else (spaces, controls, bidi overrides, zero-width characters, symbols) is refused, which
 * keeps names unambiguous when displayed.
 */
import { TesseraError } from '../errors.ts'

export const usernameMinLength = 3
export const usernameMaxLength = 64
const usernamePattern = /^[\p{L}\p{Nd}][\p{L}\p{M}\p{Nd}._-]*$/u

export interface NormalizedUsername {
  /** The NFKC form, case kept, shown to people. */
  display: string
  /** The case-folded form that must be unique. */
  key: string
}

/** Normalises a username; null when it is not a valid name (callers decide how to answer). */
export function normalizeUsername(input: string): NormalizedUsername | null {
  if (!input.isWellFormed()) return null
  const display = input.normalize('NFKC')
  const length = [...display].length
  if (length < usernameMinLength || length > usernameMaxLength) return null
  if (!usernamePattern.test(display)) return null
  const key = display.toLowerCase().normalize('NFKC')
  return { display, key }
}

/** Like normalizeUsername, but throws `invalid_username` for a name that cannot be registered. */
export function requireValidUsername(input: string): NormalizedUsername {
  const normalized = normalizeUsername(input)
  if (!normalized) {
    throw new TesseraError(
      'invalid_username',
      `A username has ${usernameMinLength} to ${usernameMaxLength} letters, digits, '.', '_' or '-', and starts with a letter or digit.`,
    )
  }
  return normalized
}

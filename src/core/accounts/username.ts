/**
 * Usernames: NFKC, then case-mapped for uniqueness (in the spirit of PRECIS UsernameCaseMapped,
 * RFC 8265), so `Alice`, `alice` and fullwidth `ＡＬＩＣＥ` are one name.
 *
 * The allowed set, after NFKC: letters, combining marks and decimal digits of any script, plus
 * `.`, `_` and `-`; the first character is a letter or digit; 3 to 64 code points. Everything
 * else (spaces, controls, bidi overrides, zero-width characters, symbols) is refused, which
 * keeps names unambiguous when displayed. That is what `normalizeUsername` accepts, and what
 * sign-in looks names up by, so accounts made under it keep signing in.
 *
 * A new name (registration, creation, import) must also look like nobody else's
 * (UTS #39; `requireValidUsername`):
 * - no default-ignorable character: the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0) are
 *   letters that render as nothing, variation selectors and the grapheme joiner are marks;
 * - no stacked marks: at most four combining marks in a row, never the same one twice in a
 *   row, and none on `.`, `_` or `-`;
 * - one script, or Latin with Japanese, Chinese or Korean writing (username-scripts.ts);
 * - a confusable skeleton (username-skeleton.ts) that no other account has: the store keeps
 *   skeletons unique, and a look-alike of a taken name is `username_taken`.
 */
import { TesseraError } from '../errors.ts'
import { isHighlyRestrictive } from './username-scripts.ts'
import { computeUsernameSkeleton } from './username-skeleton.ts'

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

export interface NewUsername extends NormalizedUsername {
  /** The confusable skeleton of the key, unique among accounts. */
  skeleton: string
}

const defaultIgnorable = /\p{Default_Ignorable_Code_Point}/u
// On the NFD form: five nonspacing marks in a row, one mark twice in a row, a mark on punctuation.
const stackedMarks = /[\p{Mn}\p{Me}]{5}|(\p{Mn})\1|[._-]\p{M}/u

/** Like normalizeUsername, plus the rules for new names; throws `invalid_username`. */
export function requireValidUsername(input: string): NewUsername {
  const normalized = normalizeUsername(input)
  if (!normalized) {
    throw new TesseraError(
      'invalid_username',
      `A username has ${usernameMinLength} to ${usernameMaxLength} letters, digits, '.', '_' or '-', and starts with a letter or digit.`,
    )
  }
  const { display, key } = normalized
  if (defaultIgnorable.test(display)) {
    throw new TesseraError(
      'invalid_username',
      'A username cannot contain invisible characters such as fillers, joiners or variation selectors.',
    )
  }
  if (stackedMarks.test(display.normalize('NFD'))) {
    throw new TesseraError(
      'invalid_username',
      'A username cannot stack accents: at most four in a row, never the same one twice.',
    )
  }
  if (!isHighlyRestrictive(display)) {
    throw new TesseraError(
      'invalid_username',
      'A username uses one script, or Latin with Chinese, Japanese or Korean writing; other mixtures (such as Latin with Cyrillic) are refused.',
    )
  }
  return { display, key, skeleton: computeUsernameSkeleton(key) }
}

const usernamePrefixPattern = /^[\p{L}\p{M}\p{Nd}._-]*$/u

/**
 * The key form of the start of a username (what an operator types to find a user): NFKC and
 * case-folded as keys are, any length up to a name's. Null when no username could start with it.
 */
export function normalizeUsernamePrefix(input: string): string | null {
  if (!input.isWellFormed()) return null
  const key = input.normalize('NFKC').toLowerCase().normalize('NFKC')
  if ([...key].length > usernameMaxLength || !usernamePrefixPattern.test(key)) return null
  return key
}

/**
 * NIST SP 800-63B-4 blocklist: a new password is refused when it is a commonly used password,
 * repeats a short pattern, follows a sequence, or is built on a context word (the username,
 * "tessera", configured words). Checks are case-insensitive and run on the NFKC form.
 *
 * The pattern checks (repetition, sequence) apply to passwords typed from the ASCII keyboard
 * set, which is what guessing tools enumerate; a password of one repeated emoji passes them
 * (SECURITY.md PW-01 requires fifteen fox emoji to be accepted) and is still length-checked.
 */
import { TesseraError } from '../errors.ts'

export type BlocklistReason = 'common' | 'repetitive' | 'sequential' | 'context'

export interface PasswordBlocklist {
  /** Why `password` (NFKC) is too easy to guess for this user, or null when it is not. */
  findWeakness(password: string, context: { username: string; minLength: number }): Promise<BlocklistReason | null>
}

const reasonMessages: Record<BlocklistReason, string> = {
  common: 'This password is one of the most commonly used passwords; choose another.',
  repetitive: 'This password repeats a short pattern; choose another.',
  sequential: 'This password follows a sequence such as "abcd", "1234" or a keyboard row; choose another.',
  context: 'This password is built on the username or the name of this service; choose another.',
}

/** The `password_blocklisted` error for a reason; never carries the password. */
export function createBlocklistedError(reason: BlocklistReason): TesseraError {
  return new TesseraError('password_blocklisted', reasonMessages[reason], { details: { reason } })
}

const sequences = [
  'abcdefghijklmnopqrstuvwxyz',
  '0123456789',
  'qwertyuiopasdfghjklzxcvbnm',
  'qwertzuiopasdfghjklyxcvbnm',
  'azertyuiopqsdfghjklmwxcvbn',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p',
  'qazwsxedcrfvtgbyhnujmikolp',
]
const reversedSequences = sequences.map((sequence) => [...sequence].reverse().join(''))
const printableAscii = /^[\x20-\x7e]+$/

/** True when the password is one unit repeated, or uses at most two different characters. */
function isRepetitive(password: string): boolean {
  if (new Set(password).size <= 2) return true
  return `${password}${password}`.indexOf(password, 1) < password.length
}

/** True when the password is a stretch of an alphabet, digit or keyboard sequence (wrapping). */
function isSequential(password: string): boolean {
  return [...sequences, ...reversedSequences].some((sequence) => {
    const cycle = sequence.repeat(Math.ceil(password.length / sequence.length) + 1)
    return cycle.includes(password)
  })
}

function countCodePoints(text: string): number {
  let count = 0
  for (const _ of text) count += 1
  return count
}

export function createPasswordBlocklist(deps: {
  loadCommonPasswords: () => Promise<ReadonlySet<string>>
  contextWords?: readonly string[]
}): PasswordBlocklist {
  let common: Promise<ReadonlySet<string>> | null = null
  const serviceWords = ['tessera', ...(deps.contextWords ?? [])].map((word) => word.normalize('NFKC').toLowerCase())

  function describePattern(password: string): BlocklistReason | null {
    if (!printableAscii.test(password)) return null
    if (isRepetitive(password)) return 'repetitive'
    if (isSequential(password)) return 'sequential'
    return null
  }

  return {
    async findWeakness(password, { username, minLength }) {
      const lowered = password.toLowerCase()
      common ??= deps.loadCommonPasswords()
      const commonPasswords = await common
      if (commonPasswords.has(lowered)) return 'common'
      const words = [username.normalize('NFKC').toLowerCase(), ...serviceWords].filter((word) => countCodePoints(word) >= 3)
      if (words.some((word) => lowered.includes(word))) {
        // What is left once the context words are taken out must stand on its own.
        const rest = words.reduce((text, word) => text.split(word).join(''), lowered)
        const isWeakRest =
          countCodePoints(rest) < Math.ceil(minLength / 2) || commonPasswords.has(rest) || describePattern(rest) !== null
        if (isWeakRest) return 'context'
      }
      return describePattern(lowered)
    },
  }
}

/**
 * NIST SP 800-63B-4 blocklist: a new password is refused when it is a commonly used password,
 * repeats a short pattern, follows a sequence, or is built on a context word (the username,
 * "tessera", configured words). Checks are case-insensitive and run on the NFKC form.
 *
 * The pattern checks (repetition, sequence) apply to every script and look only at visible
 * characters, so spaces or zero-width characters between the letters of `aaaa…` change nothing.
 * One exception: a pattern made of emoji alone is not repetitive. SECURITY.md PW-01 requires
 * fifteen fox emoji to be accepted (a passphrase picked from an emoji keyboard); a repeated
 * letter, digit, kana, hangul syllable or punctuation mark of any script is refused.
 */
import { TesseraError } from '../errors.ts'
import { keepVisibleCharacters } from './password-length.ts'

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

// Orders people type in: alphabets whose letters are not consecutive code points, and keyboard
// rows (Latin layouts, Korean two-set, Russian ЙЦУКЕН). Consecutive code points of any script
// (abc…, абв…, αβγ…, 가각갂…, 0123…) are caught without a list.
const sequences = [
  'abcdefghijklmnopqrstuvwxyz',
  '0123456789',
  'qwertyuiopasdfghjklzxcvbnm',
  'qwertzuiopasdfghjklyxcvbnm',
  'azertyuiopqsdfghjklmwxcvbn',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p',
  'qazwsxedcrfvtgbyhnujmikolp',
  '가나다라마바사아자차카타파하',
  'ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ',
  'ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔㅁㄴㅇㄹㅎㅗㅓㅏㅣㅋㅌㅊㅍㅠㅜㅡ',
  'あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん',
  'アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン',
  'йцукенгшщзхъфывапролджэячсмитьбю',
  // Compared decomposed: NFKC turns the Korean keyboard's jamo into conjoining jamo and composes
  // some pairs into syllables, so both sides are matched letter by letter (NFKD).
].map((sequence) => sequence.normalize('NFKD'))
const reversedSequences = sequences.map((sequence) => [...sequence].reverse().join(''))
const emojiOnly = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}]+$/u
const minPatternLength = 4

/** True when the password is one unit repeated, or uses at most two different characters. */
function isRepetitive(characters: readonly string[]): boolean {
  const distinct = new Set(characters)
  if (distinct.size <= 2) return !emojiOnly.test([...distinct].join(''))
  const text = characters.join('')
  const period = `${text}${text}`.indexOf(text, 1)
  if (period >= text.length) return false
  return !emojiOnly.test(text.slice(0, period))
}

const decimalDigit = /^\p{Nd}$/u

/**
 * True when every character is the code point after the last (or every one the code point
 * before it). Decimal digits of every script come ten in a row from zero, so nine to zero
 * (a step of 9 back) continues a run of digits, as in 7890123.
 */
function isCodePointRun(characters: readonly string[]): boolean {
  const steps = characters.slice(1).map((character, index) => {
    const previous = characters[index] ?? ''
    const step = (character.codePointAt(0) ?? 0) - (previous.codePointAt(0) ?? 0)
    const isDigitWrap = Math.abs(step) === 9 && decimalDigit.test(character) && decimalDigit.test(previous)
    return isDigitWrap ? -Math.sign(step) : step
  })
  return steps.every((step) => step === 1) || steps.every((step) => step === -1)
}

/** True when the password is a stretch of an alphabet, digit or keyboard sequence (wrapping). */
function isSequential(characters: readonly string[]): boolean {
  if (isCodePointRun(characters)) return true
  const text = characters.join('').normalize('NFKD')
  return [...sequences, ...reversedSequences].some((sequence) => {
    const cycle = sequence.repeat(Math.ceil(text.length / sequence.length) + 1)
    return cycle.includes(text)
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
    const characters = [...keepVisibleCharacters(password)]
    if (characters.length < minPatternLength) return null
    if (isRepetitive(characters)) return 'repetitive'
    if (isSequential(characters)) return 'sequential'
    return null
  }

  return {
    async findWeakness(password, { username, minLength }) {
      const lowered = password.toLowerCase()
      common ??= deps.loadCommonPasswords()
      const commonPasswords = await common
      if (commonPasswords.has(lowered)) return 'common'
      const words = [username.normalize('NFKC').toLowerCase(), ...serviceWords].filter(
        (word) => countCodePoints(word) >= 3,
      )
      if (words.some((word) => lowered.includes(word))) {
        // What is left once the context words are taken out must stand on its own.
        const rest = words.reduce((text, word) => text.split(word).join(''), lowered)
        const isWeakRest =
          countCodePoints(rest) < Math.ceil(minLength / 2) ||
          commonPasswords.has(rest) ||
          describePattern(rest) !== null
        if (isWeakRest) return 'context'
      }
      return describePattern(lowered)
    },
  }
}

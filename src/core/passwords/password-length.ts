/**
 * How long a password is, in characters a person sees and types. Code points alone are a poor
 * measure: U+FDFA is one code point that NFKC turns into 18, twenty zero-width spaces are twenty
 * code points and nothing at all on screen, and a run of combining accents stacks on one spot.
 *
 * A character counts when it is visible: a letter, digit, punctuation, symbol or emoji of any
 * script. Combining marks count with the letter they sit on (not on their own); format and
 * default-ignorable characters (zero-width spaces and joiners, bidi controls, variation
 * selectors, Hangul fillers), controls and the blank braille pattern never count. Whitespace
 * counts once per gap between visible characters, so the spaces of a passphrase count and a
 * password padded with spaces, or made of them, does not.
 */

// Characters that add nothing a reader can see. U+2800 (braille blank) is a symbol that
// renders as nothing; the Hangul fillers are default-ignorable already.
const unseenCharacter = /[\p{Cf}\p{Cc}\p{Default_Ignorable_Code_Point}\u2800]/u
// Not counted either: a combining mark is part of the character it sits on.
const invisibleCharacter = /[\p{Cf}\p{Cc}\p{M}\p{Default_Ignorable_Code_Point}\u2800]/u
const whitespace = /\p{White_Space}/u

/** The counted length of one form of a password (see the module comment). */
export function countVisibleLength(text: string): number {
  let count = 0
  let isGapOpen = false
  let hasVisible = false
  for (const character of text) {
    if (whitespace.test(character)) {
      isGapOpen = hasVisible
      continue
    }
    if (invisibleCharacter.test(character)) continue
    if (isGapOpen) count += 1
    isGapOpen = false
    hasVisible = true
    count += 1
  }
  return count
}

/**
 * The password's length for the minimum: the smaller of the counts before and after NFKC, so
 * neither a compatibility character that expands (U+FDFA) nor decomposed accents (e + U+0301)
 * buy length the person never typed.
 */
export function measurePasswordLength(asSent: string, normalized: string): number {
  return Math.min(countVisibleLength(asSent), countVisibleLength(normalized))
}

/** The text without whitespace and unseen characters; combining marks stay with their letters. */
export function keepVisibleCharacters(text: string): string {
  let kept = ''
  for (const character of text) {
    if (!whitespace.test(character) && !unseenCharacter.test(character)) kept += character
  }
  return kept
}

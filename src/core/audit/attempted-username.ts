/**
 * The username an attempt named, as the audit trail keeps it. A valid name is stored in its
 * normalised key form, so every spelling of one account groups together for the review. Any
 * other input is kept as escaped text: control, format and bidi characters become `\u{…}`, so
 * a hostile name can neither forge a log line nor reorder what an operator sees (ASVS 16.4.1).
 */
import { normalizeUsername } from '../accounts/username.ts'

const maxStoredLength = 128
const unsafeCharacter = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\\]/gu

export function describeAttemptedUsername(input: string): string {
  const normalized = normalizeUsername(input)
  if (normalized) return normalized.key
  const wellFormed = input.toWellFormed()
  const escaped = wellFormed.replace(unsafeCharacter, (character) =>
    character === '\\' ? '\\\\' : `\\u{${(character.codePointAt(0) ?? 0).toString(16)}}`,
  )
  return [...escaped].slice(0, maxStoredLength).join('')
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TesseraError } from '../errors.ts'
import { assertPasswordAcceptable, isPasswordOversized, normalizePassword, type PasswordPolicy } from './policy.ts'

const policy: PasswordPolicy = { minLength: 15, maxLength: 256 }

function checkNewPassword(password: string): void {
  assertPasswordAcceptable(password, normalizePassword(password), policy)
}

function withCode(code: string) {
  return (error: unknown) => error instanceof TesseraError && error.code === code
}

describe('password policy', () => {
  it('counts code points: 14 fox emoji (28 UTF-16 units) are too short', () => {
    const password = '🦊'.repeat(14)
    assert.equal(password.length, 28)
    assert.throws(() => checkNewPassword(password), withCode('password_too_short'))
  })

  it('accepts 15 fox emoji', () => {
    assert.doesNotThrow(() => checkNewPassword('🦊'.repeat(15)))
  })

  it('counts after NFKC: 8 decomposed accented letters (16 code points) are too short', () => {
    const password = 'e\u0301'.repeat(8)
    assert.equal([...password].length, 16)
    assert.throws(() => checkNewPassword(password), withCode('password_too_short'))
  })

  it('accepts 15 decomposed accented letters, which compose to 15 characters', () => {
    assert.doesNotThrow(() => checkNewPassword('e\u0301'.repeat(15)))
    assert.equal(normalizePassword('e\u0301'.repeat(15)), '\u00e9'.repeat(15))
  })

  it('refuses 14 ASCII characters and accepts 15', () => {
    assert.throws(() => checkNewPassword('a'.repeat(14)), withCode('password_too_short'))
    assert.doesNotThrow(() => checkNewPassword('a'.repeat(15)))
  })

  it('refuses a password with a lone surrogate as password_invalid', () => {
    assert.throws(() => normalizePassword(`\ud800${'a'.repeat(20)}`), withCode('password_invalid'))
    assert.throws(() => normalizePassword(`${'a'.repeat(20)}\udc00`), withCode('password_invalid'))
  })

  it('accepts a well-formed surrogate pair', () => {
    assert.doesNotThrow(() => normalizePassword(`\ud83e\udd8a${'a'.repeat(20)}`))
  })

  it('does not trim: surrounding spaces are kept, but only spaces between words count', () => {
    const padded = '  two spaces  '
    assert.equal(normalizePassword(padded), padded)
    assert.doesNotThrow(() => checkNewPassword('seven words is what it'))
    assert.doesNotThrow(() => checkNewPassword('abcde fghij klm'))
    assert.throws(() => checkNewPassword(` ${'x'.repeat(13)} `), withCode('password_too_short'))
    assert.throws(() => checkNewPassword(`abcdef  \t  ghijklm`), withCode('password_too_short'))
    assert.doesNotThrow(() => checkNewPassword(`abcdefg  \t  ghijklm`))
  })

  // regression: #11 (item 4), SECURITY.md PW-01
  it('counts the minimum both as sent and after NFKC: U+FDFA alone (18 characters after NFKC) is too short', () => {
    assert.equal([...normalizePassword('\ufdfa')].length, 18)
    assert.throws(() => checkNewPassword('\ufdfa'), withCode('password_too_short'))
    assert.throws(() => checkNewPassword(`\ufdfa${'x'.repeat(13)}`), withCode('password_too_short'))
    assert.doesNotThrow(() => checkNewPassword(`\ufdfa${'x'.repeat(14)}`))
  })

  // regression: #11 (item 4), SECURITY.md PW-01
  it('does not count zero-width, format, combining, filler or whitespace characters', () => {
    const invisible = {
      'zero-width spaces': '\u200b'.repeat(20),
      'combining accents': '\u0301'.repeat(15),
      'bidi overrides': '\u202e'.repeat(15),
      'word joiners': '\u2060'.repeat(15),
      'Hangul fillers': '\u3164'.repeat(15),
      'halfwidth Hangul fillers': '\uffa0'.repeat(15),
      'variation selectors': '\ufe0f'.repeat(15),
      'braille blanks': '\u2800'.repeat(15),
      spaces: ' '.repeat(20),
      'mixed whitespace': ' \t\u3000\u00a0\n'.repeat(4),
    }
    for (const [name, password] of Object.entries(invisible)) {
      assert.throws(() => checkNewPassword(password), withCode('password_too_short'), name)
    }
    // Invisible padding buys no length either.
    assert.throws(() => checkNewPassword(`${'k'.repeat(10)}${'\u200b'.repeat(10)}`), withCode('password_too_short'))
    assert.throws(() => checkNewPassword(`${'k'.repeat(10)}${'\u0301'.repeat(10)}`), withCode('password_too_short'))
  })

  it('keeps passphrases of any script and emoji, accents and joined emoji included', () => {
    for (const password of [
      '日本語のパスフレーズはとても長い',
      '한국어로된아주긴비밀번호입니다요',
      'пароль из пятнадцати',
      'नमस्ते दुनिया बहुत अच्छी है आज',
      '👨‍👩‍👧👨‍👩‍👦👩‍👩‍👧👨‍👨‍👦👩‍👧‍👦🧑‍🚀🧑‍🎨🧑‍🍳🧑‍🔬🧑‍🚒🧑‍✈️🧑‍🌾🧑‍🏫🧑‍💻🧑‍🔧',
      'Ångström-façade-naïve-42',
    ]) {
      assert.doesNotThrow(() => checkNewPassword(password), password)
    }
  })

  it('does not case-fold or collapse spaces', () => {
    assert.equal(normalizePassword('MiXeD  Case  Words'), 'MiXeD  Case  Words')
  })

  it('applies NFKC to compatibility characters such as ligatures', () => {
    assert.equal(normalizePassword('\ufb01nal-\ufb02ow'), 'final-flow')
  })

  it('accepts 256 code points and refuses 257 as password_too_long with the limit in details', () => {
    assert.doesNotThrow(() => checkNewPassword('b'.repeat(256)))
    assert.throws(
      () => checkNewPassword('b'.repeat(257)),
      (error: unknown) =>
        error instanceof TesseraError && error.code === 'password_too_long' && error.details?.max_length === 256,
    )
  })

  it('never echoes the password in the error message', () => {
    const password = 'secret-marker'
    assert.throws(
      () => checkNewPassword(password),
      (error: unknown) => error instanceof TesseraError && !error.message.includes(password),
    )
  })

  it('isPasswordOversized() flags input longer than four UTF-16 units per allowed character', () => {
    assert.equal(isPasswordOversized('x'.repeat(1024), policy), false)
    assert.equal(isPasswordOversized('x'.repeat(1025), policy), true)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TesseraError } from '../errors.ts'
import { normalizeUsername, requireValidUsername } from './username.ts'

describe('usernames', () => {
  it('normalizeUsername() gives Alice, alice and fullwidth ＡＬＩＣＥ the same key', () => {
    const keys = ['Alice', 'alice', 'ＡＬＩＣＥ'].map((name) => normalizeUsername(name)?.key)
    assert.deepEqual(keys, ['alice', 'alice', 'alice'])
  })

  it('normalizeUsername() keeps the case of the display form', () => {
    assert.deepEqual(normalizeUsername('Alice'), { display: 'Alice', key: 'alice' })
    assert.deepEqual(normalizeUsername('ＡＬＩＣＥ'), { display: 'ALICE', key: 'alice' })
  })

  it('normalizeUsername() gives composed and decomposed forms the same key', () => {
    assert.equal(normalizeUsername('Jos\u00e9')?.key, normalizeUsername('Jose\u0301')?.key)
  })

  it('normalizeUsername() refuses zero-width, bidi override, NUL and lone surrogate characters', () => {
    const names = [
      ...['ad\u200bmin', 'ad\u200dmin', 'ad\ufeffmin'],
      ...['\u202eadmin', 'ad\u202emin', 'ad\u2066min'],
      ...['a\u0000b', 'a\u0000bc', '\ud800x', 'ab\ud800c'],
    ]
    for (const name of names) {
      assert.equal(normalizeUsername(name), null, JSON.stringify(name))
    }
  })

  it('normalizeUsername() refuses spaces, symbols and controls', () => {
    for (const name of ['al ice', 'alice ', ' alice', 'al@ice', 'al/ice', 'al\tice', 'alice\n', 'al💥ice']) {
      assert.equal(normalizeUsername(name), null, JSON.stringify(name))
    }
  })

  it('normalizeUsername() accepts 3 to 64 code points and refuses 2 and 65', () => {
    assert.equal(normalizeUsername('ab'), null)
    assert.notEqual(normalizeUsername('abc'), null)
    assert.notEqual(normalizeUsername('a'.repeat(64)), null)
    assert.equal(normalizeUsername('a'.repeat(65)), null)
  })

  it('normalizeUsername() counts length in code points, not UTF-16 units', () => {
    const ideograph = '\u{20000}'
    assert.equal(ideograph.length, 2)
    assert.equal(normalizeUsername(ideograph.repeat(64))?.display, ideograph.repeat(64))
    assert.equal(normalizeUsername(ideograph.repeat(65)), null)
  })

  it('normalizeUsername() refuses a name starting with ".", "_" or "-" and accepts them inside', () => {
    assert.equal(normalizeUsername('.alice'), null)
    assert.equal(normalizeUsername('_alice'), null)
    assert.equal(normalizeUsername('-alice'), null)
    assert.deepEqual(normalizeUsername('alice.b_c-d'), { display: 'alice.b_c-d', key: 'alice.b_c-d' })
  })

  it('normalizeUsername() accepts names in non-Latin scripts', () => {
    for (const name of ['Мария', 'Ψυχή', '日本語', 'محمد', 'नमस्ते', '김민수', 'Ærøskøbing', 'user42']) {
      assert.notEqual(normalizeUsername(name), null, name)
    }
    assert.equal(normalizeUsername('Мария')?.key, 'мария')
  })

  it('requireValidUsername() throws invalid_username for a name that cannot be registered', () => {
    assert.throws(
      () => requireValidUsername('ad\u200bmin'),
      (error: unknown) =>
        error instanceof TesseraError && error.code === 'invalid_username' && !error.message.includes('\u200b'),
    )
  })

  it('requireValidUsername() returns the normalised name and its skeleton for a valid one', () => {
    assert.deepEqual(requireValidUsername('ＡＬＩＣＥ'), { display: 'ALICE', key: 'alice', skeleton: 'alice' })
  })

  // regression: #11 (item 7)
  it('requireValidUsername() refuses fillers, other default-ignorable characters and stacked marks', () => {
    const names = {
      'Hangul filler U+3164': 'rt\u3164admin',
      'Hangul jungseong filler U+1160': 'rtadmin\u1160',
      'Hangul choseong filler U+115F': '\u115f김민수',
      'halfwidth Hangul filler U+FFA0': 'rt\uffa0admin',
      'combining grapheme joiner': 'rta\u034fdmin',
      'variation selector': 'rtadmin\ufe0f',
      'five stacked marks': 'rta\u0300\u0301\u0302\u0303\u0304dmin',
      'one mark twice': 'rta\u0301\u0301dmin',
      'twenty marks': `rta${'\u0308'.repeat(20)}dmin`,
      'a mark on a dot': 'rt.\u0301admin',
    }
    for (const [why, name] of Object.entries(names)) {
      assert.throws(
        () => requireValidUsername(name),
        (error: unknown) => error instanceof TesseraError && error.code === 'invalid_username',
        why,
      )
    }
  })

  // regression: #11 (item 7)
  it('requireValidUsername() refuses mixed scripts but keeps Latin with Korean, Japanese or Chinese writing', () => {
    for (const name of ['rt\u0430dmin', 'rtadm\u0456n', 'p\u0430ypal', 'αlpha', 'kim김\u0430', 'ᎪᏴᏟ']) {
      assert.throws(
        () => requireValidUsername(name),
        (error: unknown) => error instanceof TesseraError && error.code === 'invalid_username',
        name,
      )
    }
    for (const name of [
      'rtadmin',
      '김민준',
      'kim민준',
      '민준_kim.99',
      '田中たろう',
      'yamada太郎',
      'ヤマダ_taro',
      '王小明',
      'wang小明',
      'ㄓㄨㄥ文',
      'Мария',
      'Ψυχή',
      'नमस्ते',
      'محمد',
      'Ærøskøbing',
      'José',
      'Nguyễn',
      'ภาษาไทย',
      'user42',
    ]) {
      assert.doesNotThrow(() => requireValidUsername(name), name)
    }
  })

  // regression: #11 (item 7)
  it('gives look-alike names the same skeleton and different names different ones', () => {
    const skeletonOf = (name: string) => requireValidUsername(name).skeleton
    const lookAlikes: Array<[string, string]> = [
      ['modern', 'rnodern'],
      ['paypal', 'paypa1'],
      ['root', 'r00t'],
      ['Alice', 'ALICE'],
      ['pope', 'роре'],
      ['scope', 'ѕсоре'],
    ]
    for (const [left, right] of lookAlikes) {
      assert.equal(skeletonOf(left), skeletonOf(right), `${left} / ${right}`)
    }
    const distinct: Array<[string, string]> = [
      ['alice', 'alicia'],
      ['김민준', '김민수'],
      ['田中太郎', '田口太郎'],
      ['rtadmin', 'rtadmins'],
    ]
    for (const [left, right] of distinct) {
      assert.notEqual(skeletonOf(left), skeletonOf(right), `${left} / ${right}`)
    }
  })
})

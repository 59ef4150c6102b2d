import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createBlocklistedError, createPasswordBlocklist } from './blocklist.ts'
import { loadCommonPasswords } from './common-passwords.ts'

const blocklist = createPasswordBlocklist({ loadCommonPasswords, contextWords: ['Acme'] })
const context = { username: 'alice', minLength: 15 }

describe('password blocklist', () => {
  it('ships at least the 10,000 most common passwords, in lower case', async () => {
    const common = await loadCommonPasswords()
    assert.ok(common.size >= 10_000, `${common.size}`)
    for (const password of ['123456', 'password', 'qwerty', 'iloveyou', 'passwordpassword'])
      assert.ok(common.has(password), password)
  })

  it('refuses common passwords whatever their case', async () => {
    for (const password of [
      'passwordstandard',
      'PasswordStandard',
      'Q1W2E3R4T5Y6U7I8',
      '1QAZ2WSX3EDC4RFV',
      'Football',
      'SUNSHINE',
    ]) {
      assert.equal(await blocklist.findWeakness(password, context), 'common', password)
    }
  })

  it('refuses repetitions of a short pattern and strings of one or two characters', async () => {
    for (const password of [
      'aaaaaaaaaaaaaaaa',
      'abcabcabcabcabcabc',
      'Xy7!Xy7!Xy7!Xy7!',
      'aaaaaaaaaaaaaaab',
      '!!!!!!!!!!!!!!!!',
    ]) {
      assert.equal(await blocklist.findWeakness(password, context), 'repetitive', password)
    }
  })

  // regression: #11 (item 4), SECURITY.md PW-07
  it('refuses repetition and sequences in every script, whatever is put between the characters', async () => {
    const weak = {
      ああああああああああああああああ: 'repetitive',
      가가가가가가가가가가가가가가가가: 'repetitive',
      ['пароль'.repeat(3)]: 'repetitive',
      αβαβαβαβαβαβαβαβ: 'repetitive',
      [`${'a\u200b'.repeat(16)}`]: 'repetitive',
      'a a a a a a a a a a a a a a a a': 'repetitive',
      '！！！！！！！！！！！！！！！！': 'repetitive',
      '🦊a🦊a🦊a🦊a🦊a🦊a🦊a🦊a': 'repetitive',
      абвгдежзийклмнопр: 'sequential',
      αβγδεζηθικλμνξοπρ: 'sequential',
      가나다라마바사아자차카타파하: 'sequential',
      あいうえおかきくけこさしすせそ: 'sequential',
      ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔㅁㄴㅇㄹㅎ: 'sequential',
      йцукенгшщзхъфыва: 'sequential',
      '٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥': 'sequential',
      'a b c d e f g h i j k l m n o p': 'sequential',
    }
    for (const [password, reason] of Object.entries(weak)) {
      assert.equal(await blocklist.findWeakness(password.normalize('NFKC'), context), reason, password)
    }
  })

  it('refuses alphabet, digit and keyboard sequences, forwards and backwards', async () => {
    for (const password of [
      'abcdefghijklmnop',
      '1234567890123456',
      'qwertyuiopasdfgh',
      'ponmlkjihgfedcba',
      '9876543210987654',
      'LKJHGFDSAPOIUYTR',
    ]) {
      assert.equal(await blocklist.findWeakness(password, context), 'sequential', password)
    }
  })

  it('refuses passwords built on the username, the service name or a configured word', async () => {
    for (const password of [
      'alicealicealice!',
      'alice1234567',
      'ALICE-and-1',
      'tessera-tessera-1',
      'Tessera2025!',
      'acme-acme-acme-7',
    ]) {
      assert.equal(await blocklist.findWeakness(password, context), 'context', password)
    }
  })

  it('accepts passwords that only contain a context word among enough else', async () => {
    for (const password of [
      'alice likes long quiet walks',
      'correct horse battery staple',
      'tessera is a small mosaic tile',
    ]) {
      assert.equal(await blocklist.findWeakness(password, context), null, password)
    }
  })

  it('accepts ordinary passphrases, any script and emoji', async () => {
    for (const password of [
      'all lowercase words only here',
      '日本語のパスフレーズはとても長い',
      '🦊🐙 emoji and words together',
      '🦊'.repeat(15),
      '👍🏽'.repeat(15),
      '한국어로된아주긴비밀번호입니다요',
      'пароль из пятнадцати',
      ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~',
    ]) {
      assert.equal(await blocklist.findWeakness(password, context), null, password)
    }
  })

  it('says why in the error, and never echoes the password', () => {
    const error = createBlocklistedError('sequential')
    assert.equal(error.code, 'password_blocklisted')
    assert.deepEqual(error.details, { reason: 'sequential' })
    assert.doesNotMatch(error.message, /abcdef/)
  })
})

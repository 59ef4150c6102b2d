import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  uniqueUsername,
  type TestServer,
} from '../helpers/test-server.ts'

function register(server: TestServer, username: string, password: string) {
  return server.request('/v1/auth/register', { body: { username, password } })
}

describe('password policy over HTTP', () => {
  it('refuses blocklisted passwords at registration with the reason and without echoing them', async (t) => {
    const server = await startTestServer(t, { TESSERA_THROTTLE_REGISTER_THRESHOLD: '1000' })
    const username = uniqueUsername('carol')
    const cases: Array<[string, string]> = [
      ['aaaaaaaaaaaaaaaa', 'repetitive'],
      ['abcdefghijklmnop', 'sequential'],
      ['1234567890123456', 'sequential'],
      ['passwordpassword', 'common'],
      ['PasswordStandard', 'common'],
      ['qwertyuiopasdfgh', 'sequential'],
      [`${username}${username}`, 'context'],
      [`${username}1234567`, 'context'],
      ['tessera-tessera-1', 'context'],
    ]
    for (const [password, reason] of cases) {
      const response = await register(server, username, password)
      assert.equal(response.status, 400, password)
      assert.equal(response.json.code, 'password_blocklisted', password)
      assert.equal(response.json.reason, reason, password)
      assert.ok(!response.text.includes(password), 'the password is not echoed')
    }
  })

  it('refuses common passwords in other cases when the minimum length lets them through', async (t) => {
    const server = await startTestServer(t, { TESSERA_PASSWORD_MIN_LENGTH: '8' })
    for (const password of ['Football', 'SUNSHINE', 'iLoveYou', 'Password1']) {
      const response = await register(server, uniqueUsername(), password)
      assert.equal(response.json.code, 'password_blocklisted', password)
      assert.equal(response.json.reason, 'common')
    }
    assert.equal((await register(server, uniqueUsername(), 'Kq8#vLz2')).status, 201)
  })

  // regression: #11 (item 4), SECURITY.md PW-01, PW-06, PW-07
  it('counts the minimum in visible characters, as sent and after NFKC, and checks patterns in every script', async (t) => {
    const server = await startTestServer(t, { TESSERA_THROTTLE_REGISTER_THRESHOLD: '1000' })
    const tooShort = {
      '14 foxes': '🦊'.repeat(14),
      '8 decomposed accents': 'e\u0301'.repeat(8),
      'U+FDFA alone': '\ufdfa',
      '20 zero-width spaces': '\u200b'.repeat(20),
      '15 combining accents': '\u0301'.repeat(15),
      '15 bidi overrides': '\u202e'.repeat(15),
      '15 Hangul fillers': '\u3164'.repeat(15),
      '20 spaces': ' '.repeat(20),
      '14 letters padded with spaces': `   ${randomBytes(7).toString('hex')}   `,
    }
    for (const [name, password] of Object.entries(tooShort)) {
      const response = await register(server, uniqueUsername(), password)
      assert.equal(response.status, 400, name)
      assert.equal(response.json.code, 'password_too_short', name)
    }
    for (const password of [
      'ああああああああああああああああ',
      '가나다라마바사아자차카타파하가나',
      'a\u200ba\u200ba\u200ba\u200ba\u200ba\u200ba\u200ba\u200ba\u200ba\u200ba\u200ba\u200ba\u200ba\u200ba\u200b',
    ]) {
      const response = await register(server, uniqueUsername(), password)
      assert.equal(response.json.code, 'password_blocklisted', password)
    }
    for (const password of [
      '🦊'.repeat(15),
      '日本語のパスフレーズはとても長い',
      randomBytes(15).toString('base64').slice(0, 15),
    ]) {
      assert.equal((await register(server, uniqueUsername(), password)).status, 201, password)
    }
  })

  it('refuses a blocklisted new password on a password change', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const tokens = await logInWithToken(server, username)
    for (const newPassword of ['passwordpassword', `${username}${username}`, 'zyxwvutsrqponmlk']) {
      const response = await server.request('/v1/me/password', {
        bearer: tokens.access_token,
        body: { current_password: strongPassword, new_password: newPassword },
      })
      assert.equal(response.status, 400, newPassword)
      assert.equal(response.json.code, 'password_blocklisted')
    }
  })

  it('accepts 1024-character, emoji and any-script passwords and signs in with them', async (t) => {
    const server = await startTestServer(t)
    const passwords = [
      randomBytes(768).toString('base64url'),
      '🦊'.repeat(15),
      '🦊🐙 emoji and words together',
      '日本語のパスフレーズはとても長い',
      'all lowercase words only here',
    ]
    for (const password of passwords) {
      const { username } = await registerUser(server, uniqueUsername(), password)
      assert.equal(
        (await server.request('/v1/auth/login', { body: { username, password } })).status,
        200,
        password.slice(0, 20),
      )
    }
    const tooLong = await register(server, uniqueUsername(), `${randomBytes(768).toString('base64url')}x`)
    assert.equal(tooLong.json.code, 'password_too_long')
    const tooManyBytes = await register(server, uniqueUsername(), '🦊'.repeat(257))
    assert.equal(tooManyBytes.json.code, 'password_too_long')
  })

  it('does not accept a 73-byte password as another one that shares its first 72 bytes', async (t) => {
    const server = await startTestServer(t)
    const first72 = randomBytes(54).toString('base64url')
    assert.equal(Buffer.byteLength(first72), 72)
    const { username } = await registerUser(server, uniqueUsername(), `${first72}A`)
    assert.equal((await server.request('/v1/auth/login', { body: { username, password: `${first72}B` } })).status, 401)
    assert.equal((await server.request('/v1/auth/login', { body: { username, password: first72 } })).status, 401)
    assert.equal((await server.request('/v1/auth/login', { body: { username, password: `${first72}A` } })).status, 200)
  })
})

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  uniqueUsername,
} from '../helpers/test-server.ts'

function withoutInstance(body: Record<string, unknown>): Record<string, unknown> {
  const { instance: _instance, ...rest } = body
  return rest
}

describe('registration', () => {
  it('creates an account with the default role and answers 201', async (t) => {
    const server = await startTestServer(t)
    const response = await server.request('/v1/auth/register', {
      body: { username: 'Alice', password: strongPassword },
    })
    assert.equal(response.status, 201)
    assert.equal(response.json.username, 'Alice')
    assert.deepEqual(response.json.roles, ['user'])
    assert.match(response.json.id, /^[0-9a-f-]{36}$/)
    assert.equal(response.json.password, undefined)
    assert.equal(response.json.password_hash, undefined)
  })

  it('refuses a name that differs only by case or width with 409 username_taken and nothing else', async (t) => {
    const server = await startTestServer(t)
    await registerUser(server, 'Alice')
    for (const variant of ['alice', 'ＡＬＩＣＥ', 'ALICE']) {
      const response = await server.request('/v1/auth/register', {
        body: { username: variant, password: strongPassword },
      })
      assert.equal(response.status, 409)
      assert.equal(response.json.code, 'username_taken')
      assert.deepEqual(Object.keys(response.json).sort(), ['code', 'detail', 'instance', 'status', 'title', 'type'])
    }
    const login = await server.request('/v1/auth/login', { body: { username: 'ＡＬＩＣＥ', password: strongPassword } })
    assert.equal(login.status, 200)
  })

  // regression: #11 (item 7)
  it('refuses look-alike, invisible and mixed-script names beside an existing one, and keeps Korean names', async (t) => {
    const server = await startTestServer(t, { TESSERA_THROTTLE_REGISTER_THRESHOLD: '1000' })
    const register = (username: string) =>
      server.request('/v1/auth/register', { body: { username, password: strongPassword } })
    assert.equal((await register('rtadmin')).status, 201)
    assert.equal((await register('scope')).status, 201)
    const invalid = {
      'Cyrillic а': 'rt\u0430dmin',
      'Cyrillic і': 'rtadm\u0456n',
      'Hangul filler U+3164': 'rt\u3164admin',
      'Hangul filler U+1160': 'rtadmin\u1160',
      'grapheme joiner': 'rtad\u034fmin',
      'variation selector': 'rtadmin\ufe0e',
      'stacked marks': `rtadmi${'\u0308'.repeat(8)}n`,
    }
    for (const [why, username] of Object.entries(invalid)) {
      const response = await register(username)
      assert.equal(response.status, 400, why)
      assert.equal(response.json.code, 'invalid_username', why)
    }
    for (const lookAlike of ['rtadrnin', 'RTADMIN', 'sc0pe', '\u0455\u0441\u043e\u0440\u0435']) {
      const response = await register(lookAlike)
      assert.equal(response.status, 409, lookAlike)
      assert.equal(response.json.code, 'username_taken', lookAlike)
    }
    for (const username of ['김민준', 'kim민준', '田中たろう', 'yamada太郎'])
      assert.equal((await register(username)).status, 201, username)
    assert.equal((await register('김민준')).status, 409)
    await logInWithToken(server, 'kim민준')
  })

  it('refuses invalid usernames with 400 invalid_username', async (t) => {
    const server = await startTestServer(t)
    for (const username of [
      'ab',
      'ad\u200bmin',
      '\u202eadmin',
      'a\u0000b',
      'a b c',
      '.hidden',
      'x'.repeat(65),
      '\ud800xyz',
    ]) {
      const response = await server.request('/v1/auth/register', { body: { username, password: strongPassword } })
      assert.equal(response.status, 400, JSON.stringify(username))
      assert.equal(response.json.code, 'invalid_username')
    }
  })

  it('counts password length in code points after NFKC', async (t) => {
    const server = await startTestServer(t)
    const cases: Array<[string, number, string?]> = [
      ['a'.repeat(14), 400, 'password_too_short'],
      ['a1B-'.repeat(3) + 'xyz', 201],
      ['🦊'.repeat(14), 400, 'password_too_short'],
      ['🦊'.repeat(15), 201],
      ['e\u0301'.repeat(8), 400, 'password_too_short'],
      [randomBytes(768).toString('base64url') + 'x', 400, 'password_too_long'],
      [randomBytes(768).toString('base64url'), 201],
      [randomBytes(192).toString('base64url'), 201],
    ]
    for (const [password, status, code] of cases) {
      const response = await server.request('/v1/auth/register', { body: { username: uniqueUsername(), password } })
      assert.equal(response.status, status, `${[...password].length} code points`)
      if (code) assert.equal(response.json.code, code)
    }
  })

  it('refuses a password with a lone surrogate', async (t) => {
    const server = await startTestServer(t)
    const response = await server.request('/v1/auth/register', {
      rawBody: `{"username":"${uniqueUsername()}","password":"abcdefghijklmnop\\ud800"}`,
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(response.status, 400)
    assert.equal(response.json.code, 'password_invalid')
  })

  it('refuses a megabyte password quickly, before any hashing', async (t) => {
    const server = await startTestServer(t, {}, { realArgon2: true })
    const started = performance.now()
    const response = await server.request('/v1/auth/register', {
      body: { username: uniqueUsername(), password: 'x'.repeat(1024 * 1024) },
    })
    assert.equal(response.status, 413)
    assert.equal(response.json.code, 'payload_too_large')
    assert.ok(performance.now() - started < 1000)
    assert.equal((await server.request('/healthz')).status, 200)
  })

  it('refuses privileged fields in the body instead of assigning them', async (t) => {
    const server = await startTestServer(t)
    const response = await server.request('/v1/auth/register', {
      body: { username: uniqueUsername(), password: strongPassword, roles: ['admin'], is_admin: true },
    })
    assert.equal(response.status, 400)
    assert.equal(response.json.code, 'validation_failed')
  })

  it('refuses prototype-polluting bodies', async (t) => {
    const server = await startTestServer(t)
    const username = uniqueUsername()
    for (const rawBody of [
      `{"username":"${username}","password":"${strongPassword}","__proto__":{"roles":["admin"]}}`,
      `{"username":"${username}","password":"${strongPassword}","constructor":{"prototype":{"isAdmin":true}}}`,
    ]) {
      const response = await server.request('/v1/auth/register', {
        rawBody,
        headers: { 'content-type': 'application/json' },
      })
      assert.equal(response.status, 400)
    }
  })
})

describe('login', () => {
  it('answers an unknown user and a wrong password with the same problem', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const wrong = await server.request('/v1/auth/login', { body: { username, password: 'not the password at all' } })
    const unknown = await server.request('/v1/auth/login', {
      body: { username: uniqueUsername(), password: 'not the password at all' },
    })
    assert.equal(wrong.status, 401)
    assert.equal(unknown.status, 401)
    assert.equal(wrong.json.code, 'invalid_credentials')
    assert.deepEqual(withoutInstance(wrong.json), withoutInstance(unknown.json))
    assert.equal(wrong.headers.get('set-cookie'), unknown.headers.get('set-cookie'))
  })

  it('never trims, case-folds or truncates the password', async (t) => {
    const server = await startTestServer(t)
    const password = '  Two  spaces and Trailing 7Q  '
    const { username } = await registerUser(server, uniqueUsername(), password)
    for (const attempt of [password.trim(), password.toLowerCase(), password.replace(/\s+/g, ' ')]) {
      const response = await server.request('/v1/auth/login', { body: { username, password: attempt } })
      assert.equal(response.status, 401)
    }
    const long = randomBytes(75).toString('base64url')
    const other = await registerUser(server, uniqueUsername(), long)
    for (const attempt of [long.slice(0, 72), long.slice(0, 99), `${long}x`]) {
      const response = await server.request('/v1/auth/login', { body: { username: other.username, password: attempt } })
      assert.equal(response.status, 401)
    }
    assert.equal((await server.request('/v1/auth/login', { body: { username, password } })).status, 200)
    assert.equal(
      (await server.request('/v1/auth/login', { body: { username: other.username, password: long } })).status,
      200,
    )
  })

  it('applies NFKC to the password the same way at registration and login', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server, uniqueUsername(), 'ﬁnal-ﬂow-passphrase-9')
    const response = await server.request('/v1/auth/login', { body: { username, password: 'final-flow-passphrase-9' } })
    assert.equal(response.status, 200)
    const nfc = 'Ångström-façade-naïve-42'
    const second = await registerUser(server, uniqueUsername(), nfc)
    const nfd = await server.request('/v1/auth/login', {
      body: { username: second.username, password: nfc.normalize('NFD') },
    })
    assert.equal(nfd.status, 200)
  })

  it('has no default accounts on a fresh install', async (t) => {
    const server = await startTestServer(t)
    for (const [username, password] of [
      ['admin', 'admin'],
      ['admin', 'password'],
      ['root', 'root'],
      ['tessera', 'tessera'],
    ]) {
      const response = await server.request('/v1/auth/login', { body: { username, password } })
      assert.equal(response.status, 401)
    }
  })
})

describe('the signed-in user', () => {
  it('GET /v1/me answers the user of the token and 401 without one', async (t) => {
    const server = await startTestServer(t)
    const { username, id } = await registerUser(server)
    const tokens = await logInWithToken(server, username)
    const me = await server.request('/v1/me', { bearer: tokens.access_token })
    assert.equal(me.status, 200)
    assert.equal(me.json.user.id, id)
    assert.equal(me.json.session_id, tokens.session_id)
    const anonymous = await server.request('/v1/me')
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.json.code, 'unauthenticated')
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer')
  })

  it('changes the password only with the current one, and ends every other session', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const first = await logInWithToken(server, username)
    const second = await logInWithToken(server, username)
    const newPassword = 'a brand new passphrase 2026'

    const wrong = await server.request('/v1/me/password', {
      bearer: first.access_token,
      body: { current_password: 'wrong wrong wrong wrong', new_password: newPassword },
    })
    assert.equal(wrong.status, 401)
    assert.equal(wrong.json.code, 'invalid_credentials')
    const tooShort = await server.request('/v1/me/password', {
      bearer: first.access_token,
      body: { current_password: strongPassword, new_password: 'short' },
    })
    assert.equal(tooShort.status, 400)
    assert.equal(tooShort.json.code, 'password_too_short')
    const anonymous = await server.request('/v1/me/password', {
      body: { current_password: strongPassword, new_password: newPassword },
    })
    assert.equal(anonymous.status, 401)

    const changed = await server.request('/v1/me/password', {
      bearer: first.access_token,
      body: { current_password: strongPassword, new_password: newPassword },
    })
    assert.equal(changed.status, 200)
    assert.notEqual(changed.json.session_id, first.session_id)
    assert.equal((await server.request('/v1/me', { bearer: changed.json.access_token })).status, 200)
    assert.equal((await server.request('/v1/me', { bearer: first.access_token })).status, 401)
    assert.equal((await server.request('/v1/me', { bearer: second.access_token })).status, 401)
    const refresh = await server.request('/v1/auth/refresh', { body: { refresh_token: second.refresh_token } })
    assert.equal(refresh.status, 400)

    const oldLogin = await server.request('/v1/auth/login', { body: { username, password: strongPassword } })
    assert.equal(oldLogin.status, 401)
    const newLogin = await server.request('/v1/auth/login', { body: { username, password: newPassword } })
    assert.equal(newLogin.status, 200)
  })
})

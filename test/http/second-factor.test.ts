/**
 * The second factor over HTTP, in both transports, with a manual clock: TOTP enrolment with its
 * QR code, the two-step sign-in, recovery codes, replay and drift, the challenge's lifetime and
 * attempts, and what a wrong password on an MFA account answers.
 */
import assert from 'node:assert/strict'
import { decodeJwt } from 'jose'
import { describe, it } from 'node:test'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  type TestServer,
} from '../helpers/test-server.ts'
import { enrolTotp } from '../helpers/second-factor.ts'

function withoutInstance(body: Record<string, unknown>): Record<string, unknown> {
  const { instance: _instance, ...rest } = body
  return rest
}

/** Registers a user with TOTP enrolled; returns it with its authenticator. */
async function registerWithTotp(server: TestServer) {
  const user = await registerUser(server)
  const { access_token: bearer } = await logInWithToken(server, user.username)
  const totp = await enrolTotp(server, { bearer })
  return { ...user, totp }
}

async function passwordStep(server: TestServer, username: string, mode: 'token' | 'cookie' = 'token') {
  const response = await server.request('/v1/auth/login', { body: { username, password: strongPassword, mode } })
  assert.equal(response.status, 401, response.text)
  assert.equal(response.json.code, 'mfa_required')
  return response.json as { mfa_challenge: string; mfa_methods: string[]; expires_in: number }
}

describe('TOTP enrolment', () => {
  it('shows the secret once as an otpauth URI and a PNG QR code, and turns on only with a valid code', async (t) => {
    const server = await startTestServer(t, { TESSERA_TOTP_ISSUER: 'Acme Games' })
    const user = await registerUser(server)
    const { access_token: bearer } = await logInWithToken(server, user.username)
    const started = await server.request('/v1/me/mfa/totp', { method: 'POST', bearer })
    assert.equal(started.status, 200, started.text)
    assert.equal(started.headers.get('cache-control'), 'no-store')
    const uri = new URL(started.json.otpauth_uri)
    assert.equal(uri.protocol, 'otpauth:')
    assert.equal(decodeURIComponent(uri.pathname), `/Acme Games:${user.username}`)
    assert.equal(uri.searchParams.get('secret'), started.json.secret)
    assert.deepEqual([started.json.algorithm, started.json.digits, started.json.period], ['SHA1', 6, 30])
    const png = Buffer.from(String(started.json.qr_code).replace(/^data:image\/png;base64,/, ''), 'base64')
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    // Not on until confirmed: the password alone still signs in.
    assert.equal(
      (await server.request('/v1/auth/login', { body: { username: user.username, password: strongPassword } })).status,
      200,
    )
    const status = await server.request('/v1/me/mfa', { bearer })
    assert.deepEqual(status.json, {
      enabled: false,
      enabled_at: null,
      recovery_codes_left: 0,
      passkeys: 0,
      required: false,
    })
    const wrong = await server.request('/v1/me/mfa/totp/confirm', { body: { code: '000000' }, bearer })
    assert.equal(wrong.json.code, 'invalid_mfa_code')
    // The stored secret is sealed: neither its bytes nor its base32 form are in the store.
    const stored = await server.stores.secondFactors.findTotp(user.id)
    assert.ok(stored && !stored.secretCiphertext.includes(started.json.secret))
    assert.ok(!stored.secretCiphertext.includes(Buffer.from(started.json.secret).toString('base64url')))
  })

  it('confirmation gives ten distinct recovery codes once, and a second enrolment is refused', async (t) => {
    const server = await startTestServer(t)
    const user = await registerUser(server)
    const { access_token: bearer } = await logInWithToken(server, user.username)
    const totp = await enrolTotp(server, { bearer })
    assert.equal(totp.recoveryCodes.length, 10)
    assert.equal(new Set(totp.recoveryCodes).size, 10)
    for (const code of totp.recoveryCodes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/)
    const status = await server.request('/v1/me/mfa', { bearer })
    assert.equal(status.json.enabled, true)
    assert.equal(status.json.recovery_codes_left, 10)
    const again = await server.request('/v1/me/mfa/totp', { method: 'POST', bearer })
    assert.equal(again.json.code, 'mfa_already_enrolled')
    const types = server.auditEvents.map((event) => event.type)
    assert.ok(types.includes('mfa_enrolment_started') && types.includes('mfa_enrolled'))
    assert.doesNotMatch(JSON.stringify(server.auditEvents), new RegExp(totp.recoveryCodes[0] ?? 'x'))
  })

  it('a shown secret that waited more than ten minutes can no longer be confirmed', async (t) => {
    const server = await startTestServer(t)
    const user = await registerUser(server)
    const { access_token: bearer } = await logInWithToken(server, user.username)
    const started = await server.request('/v1/me/mfa/totp', { method: 'POST', bearer })
    assert.equal(started.status, 200)
    server.clock.advanceSeconds(601)
    const { decodeBase32, generateTotp } = await import('../../src/core/second-factor/totp.ts')
    const late = await server.request('/v1/me/mfa/totp/confirm', {
      body: { code: generateTotp(decodeBase32(started.json.secret), server.clock.now().getTime()) },
      bearer,
    })
    assert.equal(late.status, 404)
  })
})

describe('signing in with a second factor', () => {
  for (const mode of ['token', 'cookie'] as const) {
    it(`a correct password gives a challenge and no session; a code completes the sign-in (${mode})`, async (t) => {
      const server = await startTestServer(t)
      const user = await registerWithTotp(server)
      const login = await server.request('/v1/auth/login', {
        body: { username: user.username, password: strongPassword, mode },
      })
      assert.equal(login.status, 401)
      assert.equal(login.json.code, 'mfa_required')
      assert.equal(login.headers.get('set-cookie'), null)
      assert.equal(login.json.access_token, undefined)
      assert.deepEqual(login.json.mfa_methods, ['totp', 'recovery_code'])
      assert.equal(login.json.expires_in, 300)
      assert.ok(String(login.json.mfa_challenge).length >= 43)
      const completed = await server.request('/v1/auth/mfa', {
        body: { challenge: login.json.mfa_challenge, code: user.totp.codeAt() },
      })
      assert.equal(completed.status, 200, completed.text)
      if (mode === 'token') {
        const claims = decodeJwt(completed.json.access_token)
        assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'])
        assert.equal(claims.auth_time, Math.floor(server.clock.now().getTime() / 1000))
        assert.equal((await server.request('/v1/me', { bearer: completed.json.access_token })).status, 200)
        const refreshed = await server.request('/v1/auth/refresh', {
          body: { refresh_token: completed.json.refresh_token },
        })
        assert.deepEqual(decodeJwt(refreshed.json.access_token).amr, ['pwd', 'otp', 'mfa'])
      } else {
        assert.equal(completed.json.access_token, undefined)
        const cookie = /__Host-session=[^;]*/.exec(completed.headers.get('set-cookie') ?? '')?.[0] ?? ''
        assert.ok(cookie.length > 30)
        const sessions = await server.request('/v1/sessions', { cookie })
        assert.equal(sessions.status, 200)
        const current = sessions.json.sessions.find((session: { current: boolean }) => session.current)
        assert.deepEqual(current.amr, ['pwd', 'otp', 'mfa'])
        assert.equal(current.transport, 'cookie')
      }
      const succeeded = server.auditEvents.filter((event) => event.type === 'login_succeeded').at(-1)
      assert.equal(succeeded?.details.method, 'totp')
    })
  }

  it('a wrong password on an MFA account answers exactly as on an account without one', async (t) => {
    const server = await startTestServer(t)
    const withMfa = await registerWithTotp(server)
    const without = await registerUser(server)
    const answers = await Promise.all(
      [withMfa.username, without.username].map((username) =>
        server.request('/v1/auth/login', { body: { username, password: 'not the password at all' } }),
      ),
    )
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [401, 401],
    )
    assert.deepEqual(withoutInstance(answers[0]?.json), withoutInstance(answers[1]?.json))
    assert.equal(answers[0]?.json.code, 'invalid_credentials')
    assert.equal(answers[0]?.json.mfa_challenge, undefined)
  })

  it("a code is accepted once: replayed in its window it is refused, and the next step's code works", async (t) => {
    const server = await startTestServer(t)
    const user = await registerWithTotp(server)
    const code = user.totp.codeAt()
    const first = await server.request('/v1/auth/mfa', {
      body: { challenge: (await passwordStep(server, user.username)).mfa_challenge, code },
    })
    assert.equal(first.status, 200)
    server.clock.advanceSeconds(5)
    const replay = await server.request('/v1/auth/mfa', {
      body: { challenge: (await passwordStep(server, user.username)).mfa_challenge, code },
    })
    assert.equal(replay.status, 401)
    assert.equal(replay.json.code, 'invalid_mfa_code')
    assert.equal(server.auditEvents.filter((event) => event.type === 'mfa_failed').at(-1)?.reason, 'code_replayed')
    server.clock.advanceSeconds(30)
    const next = await server.request('/v1/auth/mfa', {
      body: { challenge: (await passwordStep(server, user.username)).mfa_challenge, code: user.totp.codeAt() },
    })
    assert.equal(next.status, 200)
  })

  it('accepts the codes of one step of drift each way and refuses two', async (t) => {
    const server = await startTestServer(t)
    const user = await registerWithTotp(server)
    server.clock.advanceSeconds(120)
    for (const [offset, status] of [
      [-2, 401],
      [2, 401],
      [-1, 200],
      [1, 200],
    ] as const) {
      const { mfa_challenge: challenge } = await passwordStep(server, user.username)
      const answer = await server.request('/v1/auth/mfa', { body: { challenge, code: user.totp.codeAt(offset) } })
      assert.equal(answer.status, status, `offset ${offset}: ${answer.text}`)
    }
  })

  it('a challenge is single-use, lasts five minutes, and allows five checks', async (t) => {
    const server = await startTestServer(t)
    const user = await registerWithTotp(server)
    const used = await passwordStep(server, user.username)
    assert.equal(
      (await server.request('/v1/auth/mfa', { body: { challenge: used.mfa_challenge, code: user.totp.codeAt() } }))
        .status,
      200,
    )
    server.clock.advanceSeconds(30)
    const reused = await server.request('/v1/auth/mfa', {
      body: { challenge: used.mfa_challenge, code: user.totp.codeAt() },
    })
    assert.equal(reused.json.code, 'invalid_mfa_challenge')

    const expiring = await passwordStep(server, user.username)
    server.clock.advanceSeconds(301)
    const late = await server.request('/v1/auth/mfa', {
      body: { challenge: expiring.mfa_challenge, code: user.totp.codeAt() },
    })
    assert.equal(late.json.code, 'invalid_mfa_challenge')

    const guessed = await passwordStep(server, user.username)
    const codes: string[] = []
    for (let guess = 0; guess < 5; guess += 1) {
      const answer = await server.request('/v1/auth/mfa', {
        body: { challenge: guessed.mfa_challenge, code: '000000' },
      })
      codes.push(answer.json.code)
    }
    assert.deepEqual(codes, Array(5).fill('invalid_mfa_code'))
    const sixth = await server.request('/v1/auth/mfa', {
      body: { challenge: guessed.mfa_challenge, code: user.totp.codeAt() },
    })
    assert.equal(sixth.json.code, 'invalid_mfa_challenge')
    assert.equal(
      (await server.request('/v1/auth/mfa', { body: { challenge: 'x'.repeat(43), code: '123456' } })).json.code,
      'invalid_mfa_challenge',
    )
  })

  it('wrong codes count in the sign-in throttle: after five, 429 even for the right code (MF-01)', async (t) => {
    const server = await startTestServer(t)
    const user = await registerWithTotp(server)
    const first = await passwordStep(server, user.username)
    const second = await passwordStep(server, user.username)
    const statuses: number[] = []
    for (let guess = 0; guess < 5; guess += 1) {
      statuses.push(
        (
          await server.request('/v1/auth/mfa', {
            body: { challenge: first.mfa_challenge, code: String(100000 + guess) },
          })
        ).status,
      )
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401])
    const wrong = await server.request('/v1/auth/mfa', { body: { challenge: second.mfa_challenge, code: '999999' } })
    assert.equal(wrong.status, 429)
    assert.ok(Number(wrong.headers.get('retry-after')) >= 1)
    const right = await server.request('/v1/auth/mfa', {
      body: { challenge: second.mfa_challenge, code: user.totp.codeAt() },
    })
    assert.equal(right.status, 429)
    // The password step is throttled too: the code failures are the account's failures.
    assert.equal(
      (await server.request('/v1/auth/login', { body: { username: user.username, password: strongPassword } })).status,
      429,
    )
    assert.equal(
      server.auditEvents.filter((event) => event.type === 'mfa_failed' && event.reason === 'bad_code').length,
      5,
    )
  })

  it('a bad body is refused with a problem: no proof, two proofs, unknown fields', async (t) => {
    const server = await startTestServer(t)
    for (const body of [
      { challenge: 'c' },
      { challenge: 'c', code: '123456', recovery_code: 'abcd' },
      { challenge: 'c', code: '1', extra: 1 },
    ]) {
      const answer = await server.request('/v1/auth/mfa', { body })
      assert.equal(answer.status, 400)
      assert.equal(answer.json.code, 'validation_failed')
    }
  })
})

describe('recovery codes', () => {
  it('a recovery code signs in once (in either form), is audited, and tells the hook', async (t) => {
    const server = await startTestServer(t)
    const user = await registerWithTotp(server)
    const [code = '', other = ''] = user.totp.recoveryCodes
    const first = await server.request('/v1/auth/mfa', {
      body: {
        challenge: (await passwordStep(server, user.username, 'cookie')).mfa_challenge,
        recovery_code: code.toUpperCase().replaceAll('-', ' '),
      },
    })
    assert.equal(first.status, 200, first.text)
    assert.ok(first.headers.get('set-cookie')?.includes('__Host-session='))
    const again = await server.request('/v1/auth/mfa', {
      body: { challenge: (await passwordStep(server, user.username)).mfa_challenge, recovery_code: code },
    })
    assert.equal(again.json.code, 'invalid_mfa_code')
    assert.equal(server.auditEvents.filter((event) => event.type === 'recovery_code_used').length, 1)
    const second = await server.request('/v1/auth/mfa', {
      body: { challenge: (await passwordStep(server, user.username)).mfa_challenge, recovery_code: other },
    })
    assert.deepEqual(decodeJwt(second.json.access_token).amr, ['pwd', 'otp', 'mfa'])
    const { access_token: bearer } = second.json
    assert.equal((await server.request('/v1/me/mfa', { bearer })).json.recovery_codes_left, 8)
  })

  it('two simultaneous uses of one code: exactly one signs in', async (t) => {
    const server = await startTestServer(t)
    const user = await registerWithTotp(server)
    const code = user.totp.recoveryCodes[0] ?? ''
    const challenges = await Promise.all(Array.from({ length: 5 }, () => passwordStep(server, user.username)))
    const answers = await Promise.all(
      challenges.map(({ mfa_challenge: challenge }) =>
        server.request('/v1/auth/mfa', { body: { challenge, recovery_code: code } }),
      ),
    )
    const codes = answers.map((answer) => (answer.status === 200 ? 'signed_in' : answer.json.code))
    assert.equal(codes.filter((outcome) => outcome === 'signed_in').length, 1, codes.join(','))
    assert.ok(
      codes.every((outcome) => ['signed_in', 'invalid_mfa_code', 'rate_limited'].includes(outcome)),
      codes.join(','),
    )
    assert.equal(server.auditEvents.filter((event) => event.type === 'recovery_code_used').length, 1)
  })

  it('regenerating voids the old set (and needs a recent authentication)', async (t) => {
    const server = await startTestServer(t)
    const user = await registerUser(server)
    const { access_token: bearer } = await logInWithToken(server, user.username)
    const totp = await enrolTotp(server, { bearer })
    const fresh = await server.request('/v1/me/mfa/recovery-codes', { method: 'POST', bearer })
    assert.equal(fresh.status, 200, fresh.text)
    assert.equal(fresh.json.recovery_codes.length, 10)
    const old = await server.request('/v1/auth/mfa', {
      body: {
        challenge: (await passwordStep(server, user.username)).mfa_challenge,
        recovery_code: totp.recoveryCodes[0],
      },
    })
    assert.equal(old.json.code, 'invalid_mfa_code')
    const current = await server.request('/v1/auth/mfa', {
      body: {
        challenge: (await passwordStep(server, user.username)).mfa_challenge,
        recovery_code: fresh.json.recovery_codes[0],
      },
    })
    assert.equal(current.status, 200)
    server.clock.advanceSeconds(601)
    const stale = await server.request('/v1/me/mfa/recovery-codes', {
      method: 'POST',
      bearer: current.json.access_token,
    })
    assert.equal(stale.status, 403)
    assert.equal(stale.json.code, 'reauthentication_required')
  })
})

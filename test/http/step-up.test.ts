/**
 * Step-up authentication over HTTP, in both transports, with a manual clock: sensitive operations
 * refuse a stale session with `reauthentication_required`, `POST /v1/auth/reauthenticate` renews
 * the session (same id) and its tokens' `auth_time` and `amr`; the role rule of
 * TESSERA_MFA_REQUIRED_ROLES; the admin view and reset; and a resource server that demands `otp`.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeJwt } from 'jose'
import { describe, it } from 'node:test'
import { requireAuthenticationMethods, sendVerifierError } from '../../src/verifier/index.ts'
import { enrolTotp } from '../helpers/second-factor.ts'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  type TestServer,
} from '../helpers/test-server.ts'
import { createTestVerifier } from '../helpers/verifier.ts'

const offline = { ip: '', userAgent: 'test', requestId: null }

async function signInWithCode(server: TestServer, username: string, code: string, mode: 'token' | 'cookie' = 'token') {
  const login = await server.request('/v1/auth/login', { body: { username, password: strongPassword, mode } })
  assert.equal(login.json.code, 'mfa_required')
  const completed = await server.request('/v1/auth/mfa', { body: { challenge: login.json.mfa_challenge, code } })
  assert.equal(completed.status, 200, completed.text)
  const cookie = /__Host-session=[^;]*/.exec(completed.headers.get('set-cookie') ?? '')?.[0]
  return { body: completed.json, cookie }
}

describe('step-up authentication', () => {
  it('a stale token session is told to re-authenticate; a code renews it without a new session (token)', async (t) => {
    const server = await startTestServer(t)
    const user = await registerUser(server)
    const { access_token: first } = await logInWithToken(server, user.username)
    const totp = await enrolTotp(server, { bearer: first })
    const { body } = await signInWithCode(server, user.username, totp.codeAt())
    server.clock.advanceSeconds(601)
    const refused = await server.request('/v1/me/mfa/totp', { method: 'DELETE', bearer: body.access_token })
    assert.equal(refused.status, 403)
    assert.equal(refused.json.code, 'reauthentication_required')
    assert.equal(refused.json.max_age, 600)
    const passwordOnly = await server.request('/v1/auth/reauthenticate', {
      body: { password: strongPassword },
      bearer: body.access_token,
    })
    assert.equal(passwordOnly.json.code, 'validation_failed')
    const renewed = await server.request('/v1/auth/reauthenticate', {
      body: { code: totp.codeAt() },
      bearer: body.access_token,
    })
    assert.equal(renewed.status, 200, renewed.text)
    assert.equal(renewed.json.session_id, body.session_id)
    assert.equal(renewed.json.authenticated_at, server.clock.now().toISOString())
    assert.deepEqual(renewed.json.amr, ['pwd', 'otp', 'mfa'])
    assert.equal(decodeJwt(renewed.json.access_token).auth_time, Math.floor(server.clock.now().getTime() / 1000))
    // The old access token names the same session: it is renewed too, on Tessera's side.
    const removed = await server.request('/v1/me/mfa/totp', { method: 'DELETE', bearer: body.access_token })
    assert.equal(removed.status, 204, removed.text)
    assert.ok(server.auditEvents.some((event) => event.type === 'reauthenticated'))
    assert.ok(server.auditEvents.some((event) => event.type === 'mfa_disabled'))
  })

  it('a stale cookie session re-authenticates with a code and keeps its cookie (cookie)', async (t) => {
    const server = await startTestServer(t)
    const user = await registerUser(server)
    const { access_token: first } = await logInWithToken(server, user.username)
    const totp = await enrolTotp(server, { bearer: first })
    const { body, cookie } = await signInWithCode(server, user.username, totp.codeAt(), 'cookie')
    assert.ok(cookie)
    const csrf = { 'x-csrf-token': body.csrf_token }
    server.clock.advanceSeconds(601)
    const refused = await server.request('/v1/me/mfa/recovery-codes', { method: 'POST', cookie, headers: csrf })
    assert.equal(refused.json.code, 'reauthentication_required')
    const wrong = await server.request('/v1/auth/reauthenticate', { body: { code: '000000' }, cookie, headers: csrf })
    assert.equal(wrong.json.code, 'invalid_mfa_code')
    const renewed = await server.request('/v1/auth/reauthenticate', {
      body: { code: totp.codeAt() },
      cookie,
      headers: csrf,
    })
    assert.equal(renewed.status, 200, renewed.text)
    assert.equal(renewed.json.access_token, undefined)
    assert.equal(renewed.headers.get('set-cookie'), null)
    assert.equal(
      (await server.request('/v1/me/mfa/recovery-codes', { method: 'POST', cookie, headers: csrf })).status,
      200,
    )
  })

  it('a password change needs a recent second factor on an MFA account, and only the current password otherwise', async (t) => {
    const server = await startTestServer(t)
    const plain = await registerUser(server)
    const { access_token: plainToken } = await logInWithToken(server, plain.username)
    server.clock.advanceSeconds(601)
    const change = { current_password: strongPassword, new_password: 'an entirely different passphrase 7' }
    assert.equal((await server.request('/v1/me/password', { body: change, bearer: plainToken })).status, 200)

    const user = await registerUser(server)
    const { access_token: first } = await logInWithToken(server, user.username)
    const totp = await enrolTotp(server, { bearer: first })
    const { body } = await signInWithCode(server, user.username, totp.codeAt())
    server.clock.advanceSeconds(601)
    const refused = await server.request('/v1/me/password', { body: change, bearer: body.access_token })
    assert.equal(refused.json.code, 'reauthentication_required')
    await server.request('/v1/auth/reauthenticate', { body: { code: totp.codeAt() }, bearer: body.access_token })
    const changed = await server.request('/v1/me/password', { body: change, bearer: body.access_token })
    assert.equal(changed.status, 200, changed.text)
    assert.deepEqual(decodeJwt(changed.json.access_token).amr, ['pwd', 'otp', 'mfa'])
  })

  it('an account without a second factor re-authenticates with its password; a wrong one counts as a failure', async (t) => {
    const server = await startTestServer(t)
    const user = await registerUser(server)
    const { access_token: bearer } = await logInWithToken(server, user.username)
    server.clock.advanceSeconds(601)
    assert.equal(
      (await server.request('/v1/me/mfa/totp', { method: 'POST', bearer })).json.code,
      'reauthentication_required',
    )
    const wrong = await server.request('/v1/auth/reauthenticate', {
      body: { password: 'not the password at all' },
      bearer,
    })
    assert.equal(wrong.json.code, 'invalid_credentials')
    assert.equal(
      server.auditEvents.filter((event) => event.type === 'reauthentication_failed').at(-1)?.reason,
      'bad_password',
    )
    const renewed = await server.request('/v1/auth/reauthenticate', { body: { password: strongPassword }, bearer })
    assert.deepEqual(renewed.json.amr, ['pwd'])
    assert.equal((await server.request('/v1/me/mfa/totp', { method: 'POST', bearer })).status, 200)
  })
})

describe('roles that require a second factor, and admins', () => {
  it('an admin without a second factor may only enrol (and sign out); enrolling unlocks the rest', async (t) => {
    const server = await startTestServer(t, { TESSERA_MFA_REQUIRED_ROLES: 'admin' })
    await server.application.accountAdmin.createUser(
      { username: 'chief', password: strongPassword, roles: ['admin'] },
      { actorUserId: null, context: offline },
    )
    const { access_token: bearer } = await logInWithToken(server, 'chief')
    const refused = await server.request('/v1/admin/users', { bearer })
    assert.equal(refused.status, 403)
    assert.equal(refused.json.code, 'mfa_enrolment_required')
    assert.equal((await server.request('/v1/sessions', { bearer })).json.code, 'mfa_enrolment_required')
    assert.equal((await server.request('/v1/me', { bearer })).status, 200)
    assert.equal((await server.request('/v1/me/mfa', { bearer })).json.required, true)
    await enrolTotp(server, { bearer })
    assert.equal((await server.request('/v1/admin/users', { bearer })).status, 200)
    // A plain user is not concerned.
    const user = await registerUser(server)
    const { access_token: userToken } = await logInWithToken(server, user.username)
    assert.equal((await server.request('/v1/sessions', { bearer: userToken })).status, 200)
  })

  it('an admin with a second factor needs a recent authentication for changes, not for reading', async (t) => {
    const server = await startTestServer(t)
    const admin = await server.application.accountAdmin.createUser(
      { username: 'boss', password: strongPassword, roles: ['admin'] },
      { actorUserId: null, context: offline },
    )
    const target = await registerUser(server)
    const { access_token: first } = await logInWithToken(server, 'boss')
    const totp = await enrolTotp(server, { bearer: first })
    const { body } = await signInWithCode(server, 'boss', totp.codeAt())
    server.clock.advanceSeconds(601)
    const roles = { body: { roles: ['user', 'support'] }, method: 'PUT', bearer: body.access_token }
    assert.equal(
      (await server.request(`/v1/admin/users/${target.id}/roles`, roles)).json.code,
      'reauthentication_required',
    )
    assert.equal((await server.request('/v1/admin/users', { bearer: body.access_token })).status, 200)
    await server.request('/v1/auth/reauthenticate', { body: { code: totp.codeAt() }, bearer: body.access_token })
    assert.equal((await server.request(`/v1/admin/users/${target.id}/roles`, roles)).status, 200)
    assert.equal(admin.roles.includes('admin'), true)
  })

  it("an admin sees a user's second factor and resets it: factors gone, sessions ended, audited", async (t) => {
    const server = await startTestServer(t)
    await server.application.accountAdmin.createUser(
      { username: 'keeper', password: strongPassword, roles: ['admin'] },
      { actorUserId: null, context: offline },
    )
    const { access_token: adminToken } = await logInWithToken(server, 'keeper')
    const user = await registerUser(server)
    const { access_token: userToken } = await logInWithToken(server, user.username)
    await enrolTotp(server, { bearer: userToken })
    const seen = await server.request(`/v1/admin/users/${user.id}/mfa`, { bearer: adminToken })
    assert.deepEqual(
      { ...seen.json, enabled_at: null },
      { enabled: true, enabled_at: null, recovery_codes_left: 10, passkeys: 0, required: false },
    )
    const forbidden = await server.request(`/v1/admin/users/${user.id}/mfa`, { method: 'DELETE', bearer: userToken })
    assert.equal(forbidden.status, 403)
    const reset = await server.request(`/v1/admin/users/${user.id}/mfa`, { method: 'DELETE', bearer: adminToken })
    assert.equal(reset.status, 200, reset.text)
    assert.equal((await server.request('/v1/me', { bearer: userToken })).status, 401)
    assert.equal(
      (await server.request('/v1/auth/login', { body: { username: user.username, password: strongPassword } })).status,
      200,
    )
    assert.equal((await server.request(`/v1/admin/users/${user.id}/mfa`, { bearer: adminToken })).json.enabled, false)
    const event = server.auditEvents.find((recorded) => recorded.type === 'mfa_reset')
    assert.equal(event?.subjectUserId, user.id)
    assert.equal(event?.details.removed_totp, true)
    assert.equal(
      (await server.request('/v1/admin/users/00000000-0000-4000-8000-000000000000/mfa', { bearer: adminToken })).status,
      404,
    )
  })
})

describe('a resource server that demands a second factor', () => {
  it('refuses a token without otp in amr (RFC 9470 challenge) and accepts one from a code sign-in', async (t) => {
    // The verifier reads the real clock: the server's starts a minute behind it (enrolment moves it 30 s on).
    const server = await startTestServer(t, {}, { clockStart: new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000) })
    const { verifier } = createTestVerifier(server)
    const resource = createServer(async (request, response) => {
      try {
        const principal = await verifier.authenticateRequest(request)
        requireAuthenticationMethods(principal, ['otp'])
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ amr: principal.amr, auth_time: principal.authTime }))
      } catch (error) {
        sendVerifierError(response, error)
      }
    })
    await new Promise<void>((resolve) => resource.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => resource.close(() => resolve())))
    const resourceUrl = `http://127.0.0.1:${(resource.address() as AddressInfo).port}/`
    const user = await registerUser(server)
    const { access_token: passwordOnly } = await logInWithToken(server, user.username)
    const refused = await fetch(resourceUrl, { headers: { authorization: `Bearer ${passwordOnly}` } })
    assert.equal(refused.status, 401)
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="insufficient_user_authentication"')
    assert.equal(((await refused.json()) as { code: string }).code, 'insufficient_user_authentication')
    const totp = await enrolTotp(server, { bearer: passwordOnly })
    const { body } = await signInWithCode(server, user.username, totp.codeAt())
    const accepted = await fetch(resourceUrl, { headers: { authorization: `Bearer ${body.access_token}` } })
    assert.equal(accepted.status, 200)
    const seen = (await accepted.json()) as { amr: string[]; auth_time: string }
    assert.deepEqual(seen.amr, ['pwd', 'otp', 'mfa'])
    assert.equal(seen.auth_time, server.clock.now().toISOString())
  })
})

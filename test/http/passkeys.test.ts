/**
 * Passkeys over HTTP with real WebAuthn data from a software authenticator (ES256 keys from
 * WebCrypto, attestation "none"): registration and management, sign-in with a passkey alone in
 * both transports, a passkey as the second step, and the checks that make each ceremony count:
 * single-use challenges, the origin, user verification and the signature counter.
 */
import assert from 'node:assert/strict'
import { decodeJwt } from 'jose'
import { describe, it } from 'node:test'
import { enrolTotp } from '../helpers/second-factor.ts'
import { createSoftwareAuthenticator, type AuthenticatorOptions } from '../helpers/software-authenticator.ts'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  type TestServer,
} from '../helpers/test-server.ts'

const publicUrl = 'https://auth.example'

async function registerWithPasskey(server: TestServer, options: Partial<AuthenticatorOptions> = {}) {
  const user = await registerUser(server)
  const { access_token: bearer } = await logInWithToken(server, user.username)
  const authenticator = createSoftwareAuthenticator({ origin: publicUrl, ...options })
  const creation = await server.request('/v1/me/passkeys/options', { method: 'POST', bearer })
  assert.equal(creation.status, 200, creation.text)
  const credential = await authenticator.register(creation.json)
  const registered = await server.request('/v1/me/passkeys', { body: { credential, name: 'Laptop' }, bearer })
  assert.equal(registered.status, 201, registered.text)
  return { ...user, bearer, authenticator, passkey: registered.json, creationOptions: creation.json, credential }
}

async function signInWithPasskey(
  server: TestServer,
  authenticator: ReturnType<typeof createSoftwareAuthenticator>,
  mode: 'token' | 'cookie' = 'token',
  overrides = {},
) {
  const options = await server.request('/v1/auth/passkey/options', { method: 'POST' })
  assert.equal(options.status, 200, options.text)
  const credential = await authenticator.assert(options.json, overrides)
  return server.request('/v1/auth/passkey', { body: { credential, mode } })
}

describe('passkeys', () => {
  it('registration options name the RP from the public URL and ask for a discoverable credential', async (t) => {
    const server = await startTestServer(t, { TESSERA_PUBLIC_URL: publicUrl, TESSERA_WEBAUTHN_RP_NAME: 'Acme Games' })
    const { creationOptions, passkey, bearer, credential } = await registerWithPasskey(server)
    assert.deepEqual(creationOptions.rp, { name: 'Acme Games', id: 'auth.example' })
    assert.equal(creationOptions.authenticatorSelection.residentKey, 'required')
    assert.equal(creationOptions.attestation, 'none')
    assert.deepEqual(
      { ...passkey, created_at: null },
      {
        id: credential.id,
        name: 'Laptop',
        backup_eligible: false,
        transports: ['internal'],
        created_at: null,
        last_used_at: null,
      },
    )
    const listed = await server.request('/v1/me/passkeys', { bearer })
    assert.deepEqual(
      listed.json.passkeys.map((item: { id: string }) => item.id),
      [credential.id],
    )
    // The options were used once: the same attestation again is refused.
    const again = await server.request('/v1/me/passkeys', { body: { credential, name: 'Copy' }, bearer })
    assert.equal(again.json.code, 'passkey_rejected')
    const renamed = await server.request(`/v1/me/passkeys/${credential.id}`, {
      method: 'PATCH',
      body: { name: 'Work laptop' },
      bearer,
    })
    assert.equal(renamed.json.name, 'Work laptop')
    assert.ok(server.auditEvents.some((event) => event.type === 'passkey_registered'))
  })

  it('an attestation made for another origin is refused', async (t) => {
    const server = await startTestServer(t, { TESSERA_PUBLIC_URL: publicUrl })
    const user = await registerUser(server)
    const { access_token: bearer } = await logInWithToken(server, user.username)
    const creation = await server.request('/v1/me/passkeys/options', { method: 'POST', bearer })
    const credential = await createSoftwareAuthenticator({ origin: 'https://evil.example' }).register(creation.json)
    const refused = await server.request('/v1/me/passkeys', { body: { credential }, bearer })
    assert.equal(refused.json.code, 'passkey_rejected')
  })

  for (const mode of ['token', 'cookie'] as const) {
    it(`signs in with a passkey alone, a device-bound one giving hwk, user and mfa (${mode})`, async (t) => {
      const server = await startTestServer(t, { TESSERA_PUBLIC_URL: publicUrl })
      const { authenticator, id } = await registerWithPasskey(server)
      const signedIn = await signInWithPasskey(server, authenticator, mode)
      assert.equal(signedIn.status, 200, signedIn.text)
      assert.equal(signedIn.json.user.id, id)
      if (mode === 'token') {
        assert.deepEqual(decodeJwt(signedIn.json.access_token).amr, ['hwk', 'user', 'mfa'])
      } else {
        const cookie = /__Host-session=[^;]*/.exec(signedIn.headers.get('set-cookie') ?? '')?.[0] ?? ''
        const sessions = await server.request('/v1/sessions', { cookie })
        assert.deepEqual(sessions.json.sessions.find((session: { current: boolean }) => session.current).amr, [
          'hwk',
          'user',
          'mfa',
        ])
      }
      assert.equal(
        server.auditEvents.filter((event) => event.type === 'login_succeeded').at(-1)?.details.method,
        'passkey',
      )
    })
  }

  it('a synced passkey gives swk', async (t) => {
    const server = await startTestServer(t, { TESSERA_PUBLIC_URL: publicUrl })
    const { authenticator, passkey } = await registerWithPasskey(server, { isBackupEligible: true })
    assert.equal(passkey.backup_eligible, true)
    const signedIn = await signInWithPasskey(server, authenticator)
    assert.deepEqual(decodeJwt(signedIn.json.access_token).amr, ['swk', 'user', 'mfa'])
  })

  it('refuses a passkey sign-in without user verification, a replayed assertion, another origin and a counter that went back', async (t) => {
    const server = await startTestServer(t, { TESSERA_PUBLIC_URL: publicUrl })
    const { authenticator } = await registerWithPasskey(server)
    const unverified = await signInWithPasskey(server, authenticator, 'token', { verifiesUser: false })
    assert.equal(unverified.json.code, 'invalid_credentials')
    const foreign = await signInWithPasskey(server, authenticator, 'token', { origin: 'https://evil.example' })
    assert.equal(foreign.json.code, 'invalid_credentials')
    const options = await server.request('/v1/auth/passkey/options', { method: 'POST' })
    const credential = await authenticator.assert(options.json, { counter: 50 })
    assert.equal((await server.request('/v1/auth/passkey', { body: { credential } })).status, 200)
    const replayed = await server.request('/v1/auth/passkey', { body: { credential } })
    assert.equal(replayed.json.code, 'invalid_credentials')
    const cloned = await signInWithPasskey(server, authenticator, 'token', { counter: 10 })
    assert.equal(cloned.json.code, 'invalid_credentials')
    assert.equal((await signInWithPasskey(server, authenticator, 'token', { counter: 60 })).status, 200)
    const reasons = server.auditEvents.filter((event) => event.type === 'passkey_failed').map((event) => event.reason)
    assert.ok(reasons.includes('counter_regressed'), reasons.join(','))
  })

  it('a passkey is the second step of a password sign-in, and its options are bound to that challenge', async (t) => {
    const server = await startTestServer(t, { TESSERA_PUBLIC_URL: publicUrl })
    const { authenticator, username, bearer } = await registerWithPasskey(server)
    await enrolTotp(server, { bearer })
    const login = await server.request('/v1/auth/login', { body: { username, password: strongPassword } })
    assert.deepEqual(login.json.mfa_methods, ['totp', 'recovery_code', 'passkey'])
    const options = await server.request('/v1/auth/mfa/passkey-options', {
      body: { challenge: login.json.mfa_challenge },
    })
    assert.equal(options.json.allowCredentials.length, 1)
    const passkey = await authenticator.assert(options.json, { verifiesUser: false })
    // Options of another sign-in's challenge do not fit this one.
    const other = await server.request('/v1/auth/login', { body: { username, password: strongPassword } })
    const mismatched = await server.request('/v1/auth/mfa', { body: { challenge: other.json.mfa_challenge, passkey } })
    assert.equal(mismatched.json.code, 'invalid_mfa_code')
    const fresh = await server.request('/v1/auth/mfa/passkey-options', {
      body: { challenge: login.json.mfa_challenge },
    })
    const completed = await server.request('/v1/auth/mfa', {
      body: {
        challenge: login.json.mfa_challenge,
        passkey: await authenticator.assert(fresh.json, { verifiesUser: false }),
      },
    })
    assert.equal(completed.status, 200, completed.text)
    assert.deepEqual(decodeJwt(completed.json.access_token).amr, ['pwd', 'hwk', 'user', 'mfa'])
  })

  it('removing a passkey needs a recent authentication; a passkey re-authenticates', async (t) => {
    const server = await startTestServer(t, { TESSERA_PUBLIC_URL: publicUrl })
    const { authenticator, username, credential } = await registerWithPasskey(server)
    server.clock.advanceSeconds(601)
    // A password session whose authentication is now too old (its access token still valid).
    const { access_token: stale } = await logInWithToken(server, username)
    server.clock.advanceSeconds(601)
    const refused = await server.request(`/v1/me/passkeys/${credential.id}`, { method: 'DELETE', bearer: stale })
    assert.equal(refused.json.code, 'reauthentication_required')
    const options = await server.request('/v1/auth/reauthenticate/passkey-options', { method: 'POST', bearer: stale })
    const renewed = await server.request('/v1/auth/reauthenticate', {
      body: { passkey: await authenticator.assert(options.json) },
      bearer: stale,
    })
    assert.equal(renewed.status, 200, renewed.text)
    assert.deepEqual(renewed.json.amr, ['pwd', 'hwk', 'user', 'mfa'])
    assert.equal(
      (await server.request(`/v1/me/passkeys/${credential.id}`, { method: 'DELETE', bearer: stale })).status,
      204,
    )
    assert.equal((await signInWithPasskey(server, authenticator)).json.code, 'invalid_credentials')
  })
})

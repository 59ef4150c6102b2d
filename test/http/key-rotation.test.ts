/**
 * Signing-key rotation over real HTTP (SECURITY.md JW-12): the new key is published at once and
 * signs after the activation delay; old tokens keep working until they expire; the old key
 * leaves the JWKS once they all have, and its tokens are refused.
 */
import assert from 'node:assert/strict'
import { decodeProtectedHeader } from 'jose'
import { describe, it } from 'node:test'
import { refresh, signInAsAdmin } from '../helpers/token-lifecycle.ts'
import { logInWithToken, registerUser, startTestServer, type TestServer } from '../helpers/test-server.ts'

const profile = {
  TESSERA_ACCESS_TOKEN_TTL: '5m',
  TESSERA_CLOCK_LEEWAY: '5s',
  TESSERA_KEY_ACTIVATION_DELAY: '10m',
  TESSERA_SESSION_IDLE_TIMEOUT: '2h',
}

async function jwksKids(server: TestServer): Promise<string[]> {
  const response = await server.request('/.well-known/jwks.json')
  assert.equal(response.headers.get('cache-control'), 'public, max-age=300')
  return response.json.keys.map((key: { kid: string }) => key.kid)
}

describe('signing key rotation', () => {
  it('publishes at once, signs after the delay, and retires the old key after its last token expired', async (t) => {
    const server = await startTestServer(t, profile)
    const admin = await signInAsAdmin(server)
    const { username } = await registerUser(server)
    const oldKid = decodeProtectedHeader(admin.access_token).kid
    const rotation = await server.request('/v1/admin/keys/rotate', { method: 'POST', bearer: admin.access_token })
    assert.equal(rotation.status, 201)
    assert.equal(rotation.json.state, 'pending')
    assert.equal(rotation.json.alg, 'EdDSA')
    const newKid = rotation.json.kid
    assert.deepEqual(await jwksKids(server), [oldKid, newKid])

    // 1. Until the activation delay, new tokens still carry the old kid.
    server.clock.advanceSeconds(599)
    const beforeActivation = await logInWithToken(server, username)
    assert.equal(decodeProtectedHeader(beforeActivation.access_token).kid, oldKid)

    // 2. From the activation on, the new key signs; the old key's tokens still work.
    server.clock.advanceSeconds(1)
    const afterActivation = await logInWithToken(server, username)
    assert.equal(decodeProtectedHeader(afterActivation.access_token).kid, newKid)
    assert.equal((await server.request('/v1/me', { bearer: beforeActivation.access_token })).status, 200)
    const keys = await server.request('/v1/admin/keys', { bearer: (await signInAsAdmin(server)).access_token })
    assert.deepEqual(
      keys.json.keys.map((key: { kid: string; state: string }) => [key.kid, key.state]),
      [
        [oldKid, 'retiring'],
        [newKid, 'active'],
      ],
    )

    // 3. The old key stays published until its last token (signed just before activation) has
    // expired, leeway included; then it leaves the JWKS and its tokens are refused.
    server.clock.advanceSeconds(300 + 5 - 1)
    assert.deepEqual(await jwksKids(server), [oldKid, newKid])
    server.clock.advanceSeconds(1)
    assert.deepEqual(await jwksKids(server), [newKid])
    assert.equal((await server.request('/v1/me', { bearer: beforeActivation.access_token })).status, 401)
    const fresh = await logInWithToken(server, username)
    assert.equal(decodeProtectedHeader(fresh.access_token).kid, newKid)
    assert.equal((await server.request('/v1/me', { bearer: fresh.access_token })).status, 200)
  })

  it('lists keys without any private member and rotates to ES256 on request', async (t) => {
    const server = await startTestServer(t, profile)
    const admin = await signInAsAdmin(server)
    const rotation = await server.request('/v1/admin/keys/rotate?algorithm=ES256', {
      method: 'POST',
      bearer: admin.access_token,
    })
    assert.equal(rotation.json.alg, 'ES256')
    const listed = await server.request('/v1/admin/keys', { bearer: admin.access_token })
    assert.deepEqual(
      listed.json.keys.map((key: { alg: string }) => key.alg),
      ['EdDSA', 'ES256'],
    )
    const jwks = await server.request('/.well-known/jwks.json')
    for (const text of [listed.text, rotation.text, jwks.text]) {
      assert.doesNotMatch(text, /"(d|p|q|dp|dq|qi|k)"\s*:/)
      assert.doesNotMatch(text, /v1\.[A-Za-z0-9_-]+\./, 'no sealed private key')
    }
    assert.deepEqual(
      jwks.json.keys.map((key: { kty: string; crv: string }) => [key.kty, key.crv]),
      [
        ['OKP', 'Ed25519'],
        ['EC', 'P-256'],
      ],
    )
    server.clock.advanceSeconds(600)
    const signedIn = await signInAsAdmin(server)
    assert.deepEqual(decodeProtectedHeader(signedIn.access_token).alg, 'ES256')
    assert.equal((await server.request('/v1/me', { bearer: signedIn.access_token })).status, 200)
  })

  it('rotates to RS256 on request: the JWKS publishes the modulus and exponent only, and its tokens work', async (t) => {
    const server = await startTestServer(t, profile)
    const admin = await signInAsAdmin(server)
    const rotation = await server.request('/v1/admin/keys/rotate?algorithm=RS256', {
      method: 'POST',
      bearer: admin.access_token,
    })
    assert.equal(rotation.status, 201)
    assert.equal(rotation.json.alg, 'RS256')
    const jwks = await server.request('/.well-known/jwks.json')
    const rsa = jwks.json.keys.find((key: { kid: string }) => key.kid === rotation.json.kid)
    assert.deepEqual(Object.keys(rsa).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
    assert.equal(Buffer.from(rsa.n, 'base64url').length, 256)
    assert.doesNotMatch(jwks.text, /"(d|p|q|dp|dq|qi)"\s*:/)
    server.clock.advanceSeconds(600)
    const signedIn = await signInAsAdmin(server)
    assert.deepEqual(decodeProtectedHeader(signedIn.access_token), {
      alg: 'RS256',
      kid: rotation.json.kid,
      typ: 'at+jwt',
    })
    assert.equal((await server.request('/v1/me', { bearer: signedIn.access_token })).status, 200)
  })

  it('refuses an unknown algorithm or a malformed emergency flag, and lets no one but an admin rotate', async (t) => {
    const server = await startTestServer(t, profile)
    const admin = await signInAsAdmin(server)
    for (const query of [
      'algorithm=HS256',
      'algorithm=none',
      'algorithm=RS512',
      'algorithm=PS256',
      'emergency=maybe',
      'emergency=',
      'emergency[]=true',
      'urgent=true',
    ]) {
      const response = await server.request(`/v1/admin/keys/rotate?${query}`, {
        method: 'POST',
        bearer: admin.access_token,
      })
      assert.equal(response.status, 400, query)
      assert.equal(response.json.code, 'validation_failed', query)
    }
    const { username } = await registerUser(server)
    const player = await logInWithToken(server, username)
    assert.equal(
      (await server.request('/v1/admin/keys/rotate?emergency=true', { method: 'POST', bearer: player.access_token }))
        .status,
      403,
    )
    assert.equal((await server.request('/v1/admin/keys/rotate?emergency=true', { method: 'POST' })).status, 401)
    assert.equal((await jwksKids(server)).length, 1)
  })

  it('records the rotation in the audit trail with who made it and from where', async (t) => {
    const server = await startTestServer(t, profile)
    const admin = await signInAsAdmin(server)
    const rotation = await server.request('/v1/admin/keys/rotate', {
      method: 'POST',
      bearer: admin.access_token,
      headers: { 'user-agent': 'key-admin/1.0' },
    })
    const events = server.auditEvents.filter((event) => event.type === 'key_rotated')
    assert.deepEqual(
      events.map((event) => [
        event.details.kid,
        event.actorUserId,
        event.ip,
        event.userAgent,
        event.requestId !== null,
      ]),
      [[rotation.json.kid, admin.id, '127.0.0.1', 'key-admin/1.0', true]],
    )
  })

  it('an emergency rotation refuses the tokens of the old keys at once and keeps the sessions, whose refresh gets the new key', async (t) => {
    const server = await startTestServer(t, profile)
    const admin = await signInAsAdmin(server)
    const { username } = await registerUser(server)
    const player = await logInWithToken(server, username)
    const leakedKid = decodeProtectedHeader(player.access_token).kid
    assert.equal((await server.request('/v1/me', { bearer: player.access_token })).status, 200)
    const pending = await server.request('/v1/admin/keys/rotate', { method: 'POST', bearer: admin.access_token })

    const rotation = await server.request('/v1/admin/keys/rotate?emergency=true', {
      method: 'POST',
      bearer: admin.access_token,
    })
    assert.equal(rotation.status, 201)
    assert.equal(rotation.json.state, 'active')
    assert.deepEqual(await jwksKids(server), [rotation.json.kid])
    assert.equal((await server.request('/v1/me', { bearer: player.access_token })).status, 401)
    assert.equal((await server.request('/v1/me', { bearer: admin.access_token })).status, 401)
    assert.notEqual(leakedKid, rotation.json.kid)
    assert.notEqual(pending.json.kid, rotation.json.kid)

    const refreshed = await refresh(server, player.refresh_token)
    assert.equal(refreshed.status, 200)
    assert.equal(decodeProtectedHeader(refreshed.json.access_token).kid, rotation.json.kid)
    assert.equal((await server.request('/v1/me', { bearer: refreshed.json.access_token })).status, 200)
    const event = server.auditEvents.filter((recorded) => recorded.type === 'key_rotated').at(-1)
    assert.equal(event?.details.emergency, true)
    assert.equal(event?.details.kid, rotation.json.kid)
  })
})

/**
 * Key rotation seen by a resource server that caches the JWKS: with the activation delay longer
 * than the JWKS max-age, its cache already holds the new key when the first token signed by it
 * arrives, so no verification fails and no extra fetch is needed; the old key's tokens keep
 * verifying until they expire, and the old key leaves the JWKS after that.
 */
import assert from 'node:assert/strict'
import { decodeProtectedHeader } from 'jose'
import { describe, it, type TestContext } from 'node:test'
import { VerifierError } from '../../src/verifier/index.ts'
import { signInAsAdmin } from '../helpers/token-lifecycle.ts'
import { createTestVerifier } from '../helpers/verifier.ts'
import { logInWithToken, registerUser, startTestServer, type TestServer } from '../helpers/test-server.ts'

const profile = { TESSERA_ACCESS_TOKEN_TTL: '5m', TESSERA_CLOCK_LEEWAY: '5s', TESSERA_SESSION_IDLE_TIMEOUT: '2h' }

/** Server and verifier clocks moved together. */
async function startRotationScene(t: TestContext, env: Record<string, string>) {
  const start = new Date(Math.floor(Date.now() / 1000) * 1000)
  t.mock.timers.enable({ apis: ['Date'], now: start.getTime() })
  const server: TestServer = await startTestServer(t, { ...profile, ...env }, { clockStart: start })
  const advanceSeconds = (seconds: number) => {
    server.clock.advanceSeconds(seconds)
    t.mock.timers.tick(seconds * 1000)
  }
  const { username } = await registerUser(server)
  const admin = await signInAsAdmin(server)
  return { server, advanceSeconds, username, admin }
}

describe('key rotation with a caching verifier', () => {
  it('never fails a verification and never needs an unknown-kid refetch during a rotation', async (t) => {
    const { server, advanceSeconds, username, admin } = await startRotationScene(t, {
      TESSERA_KEY_ACTIVATION_DELAY: '10m',
    })
    // A cache of 240 s (any age under the 10 min delay would do) keeps the verifier's refreshes
    // apart from the activation instant, so a fetch at the first new-key token could only be an
    // unknown-kid refetch.
    const { verifier, calls } = createTestVerifier(server, { jwks: { maxAgeSeconds: 240 } })
    const oldKid = decodeProtectedHeader(admin.access_token).kid
    await verifier.verifyAccessToken(admin.access_token)
    advanceSeconds(10)
    const rotation = await server.request('/v1/admin/keys/rotate', { method: 'POST', bearer: admin.access_token })
    const newKid = rotation.json.kid

    // Traffic every 20 s for 20 minutes: each step logs in and verifies the new token and the
    // one from the step before (still valid), as game servers would.
    let previous = admin.access_token
    let firstNewKidFetches: number | null = null
    for (let elapsed = 20; elapsed <= 1200; elapsed += 20) {
      advanceSeconds(20)
      const token = (await logInWithToken(server, username)).access_token
      const isNewKey = decodeProtectedHeader(token).kid === newKid
      const fetchesBefore = calls.jwks
      for (const presented of [token, previous]) {
        try {
          await verifier.verifyAccessToken(presented)
        } catch (error) {
          assert.fail(
            `verification failed at ${elapsed} s: ${error instanceof VerifierError ? error.code : String(error)}`,
          )
        }
      }
      if (isNewKey && firstNewKidFetches === null) firstNewKidFetches = calls.jwks - fetchesBefore
      previous = token
    }
    assert.equal(firstNewKidFetches, 0, 'the first token of the new key found it in the cache')
    assert.ok(calls.jwks <= 7, `only max-age refreshes (${calls.jwks})`)
    const kids = (await server.request('/.well-known/jwks.json')).json.keys.map((key: { kid: string }) => key.kid)
    assert.deepEqual(kids, [newKid], 'the old key has left the JWKS')
    assert.notEqual(oldKid, newKid)
  })

  it("refuses a retired key's token after its expiry, at Tessera and in the verifier", async (t) => {
    const { server, advanceSeconds, username, admin } = await startRotationScene(t, {
      TESSERA_KEY_ACTIVATION_DELAY: '10m',
    })
    const { verifier } = createTestVerifier(server)
    await server.request('/v1/admin/keys/rotate', { method: 'POST', bearer: admin.access_token })
    advanceSeconds(599)
    const lastOfOldKey = (await logInWithToken(server, username)).access_token
    await verifier.verifyAccessToken(lastOfOldKey)
    advanceSeconds(1 + 300 + 5)
    assert.equal((await server.request('/v1/me', { bearer: lastOfOldKey })).status, 401)
    await assert.rejects(
      verifier.verifyAccessToken(lastOfOldKey),
      (error) => error instanceof VerifierError && error.code === 'invalid_token',
    )
  })

  it('without an activation delay, the first token of the new key forces a refetch (why the delay exists)', async (t) => {
    const { server, advanceSeconds, username, admin } = await startRotationScene(t, {
      TESSERA_KEY_ACTIVATION_DELAY: '0s',
    })
    const { verifier, calls } = createTestVerifier(server, { jwks: { cooldownSeconds: 30 } })
    await verifier.verifyAccessToken(admin.access_token)
    advanceSeconds(31)
    await server.request('/v1/admin/keys/rotate', {
      method: 'POST',
      bearer: (await signInAsAdmin(server)).access_token,
    })
    const token = (await logInWithToken(server, username)).access_token
    const before = calls.jwks
    await verifier.verifyAccessToken(token)
    assert.equal(calls.jwks - before, 1)
  })

  it('after an emergency rotation, refuses even already-verified tokens of the old keys from its next JWKS refresh on', async (t) => {
    const { server, advanceSeconds, username, admin } = await startRotationScene(t, {
      TESSERA_KEY_ACTIVATION_DELAY: '10m',
    })
    const { verifier, calls } = createTestVerifier(server)
    const player = (await logInWithToken(server, username)).access_token
    await verifier.verifyAccessToken(player)
    const emergency = await server.request('/v1/admin/keys/rotate?emergency=true', {
      method: 'POST',
      bearer: admin.access_token,
    })
    assert.equal(emergency.status, 201)
    // Within the JWKS max-age the verifier does not know yet (only introspection would tell it).
    advanceSeconds(299)
    await verifier.verifyAccessToken(player)
    const fetchesBefore = calls.jwks
    advanceSeconds(1)
    await assert.rejects(
      verifier.verifyAccessToken(player),
      (error) => error instanceof VerifierError && error.code === 'invalid_token',
    )
    assert.equal(calls.jwks, fetchesBefore + 1, 'one refresh, at the max-age')
    const fresh = (await logInWithToken(server, username)).access_token
    assert.equal(decodeProtectedHeader(fresh).kid, emergency.json.kid)
    assert.equal((await verifier.verifyAccessToken(fresh)).userId.length > 0, true)
  })
})

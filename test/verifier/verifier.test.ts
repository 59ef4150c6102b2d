/**
 * The verifier library against a real Tessera over HTTP: what it accepts, what it refuses and
 * how it maps refusals, how it uses the JWKS (cache headers, one refetch per cool-down on an
 * unknown kid) and the optional liveness check through introspection.
 */
import assert from 'node:assert/strict'
import { generateKeyPair, SignJWT } from 'jose'
import { describe, it, type TestContext } from 'node:test'
import {
  createVerifier,
  readMaxAgeSeconds,
  requireRoles,
  VerifierError,
  type Principal,
} from '../../src/verifier/index.ts'
import { createIntrospectionClient, signInAsAdmin } from '../helpers/token-lifecycle.ts'
import { createTestVerifier } from '../helpers/verifier.ts'
import { logInWithToken, registerUser, startTestServer, type TestServer } from '../helpers/test-server.ts'

async function signedIn(server: TestServer) {
  const { username, id } = await registerUser(server)
  return { username, id, ...(await logInWithToken(server, username)) }
}

async function refusal(promise: Promise<unknown>): Promise<VerifierError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof VerifierError) return error
    throw error
  }
  assert.fail('expected a VerifierError')
}

/** Real time for the verifier's caches: the test server's clock starts at the same instant. */
function startAtRealTime(t: TestContext): Date {
  const start = new Date(Math.floor(Date.now() / 1000) * 1000)
  t.mock.timers.enable({ apis: ['Date'], now: start.getTime() })
  return start
}

describe('verifier', () => {
  it('verifies a Tessera access token and returns its principal', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const user = await signedIn(server)
    const { verifier } = createTestVerifier(server)
    const principal: Principal = await verifier.verifyAccessToken(user.access_token)
    assert.equal(principal.userId, user.id)
    assert.equal(principal.sessionId, user.session_id)
    assert.equal(principal.clientId, 'tessera')
    assert.deepEqual(principal.roles, ['user'])
    assert.equal(principal.expiresAt.getTime() - principal.issuedAt.getTime(), 600_000)
    assert.equal(typeof principal.tokenId, 'string')
    assert.equal(principal.claims.iss, server.config.tokens.issuer)
  })

  it('reads the token from the Authorization header only and refuses anything else with the right code', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const user = await signedIn(server)
    const { verifier } = createTestVerifier(server)
    assert.equal(
      (await verifier.authenticateRequest({ headers: { authorization: `Bearer ${user.access_token}` } })).userId,
      user.id,
    )
    const missing = await refusal(verifier.authenticateRequest({ headers: {} }))
    assert.deepEqual([missing.code, missing.status, missing.challenge], ['missing_token', 401, 'Bearer'])
    for (const authorization of [
      `Basic ${user.access_token}`,
      `Bearer  ${user.access_token}`,
      `Bearer ${user.access_token} x`,
      'Bearer',
    ]) {
      const refused = await refusal(verifier.authenticateRequest({ headers: { authorization } }))
      assert.deepEqual(
        [refused.code, refused.status, refused.challenge],
        ['invalid_token', 401, 'Bearer error="invalid_token"'],
        authorization,
      )
    }
    const twice = await refusal(
      verifier.authenticateRequest({ headers: { authorization: [`Bearer ${user.access_token}`, 'Bearer x'] } }),
    )
    assert.equal(twice.code, 'invalid_token')
  })

  it("reads Node's raw header list when there is one, refusing a repeated Authorization header", async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const user = await signedIn(server)
    const { verifier } = createTestVerifier(server)
    const headers = {}
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const rawHeaders = ['Host', 'game.example', 'authorization', `${scheme} ${user.access_token}`]
      assert.equal((await verifier.authenticateRequest({ headers, rawHeaders })).userId, user.id, scheme)
    }
    const repeated = ['Authorization', `Bearer ${user.access_token}`, 'AUTHORIZATION', `Bearer ${user.access_token}`]
    assert.equal((await refusal(verifier.authenticateRequest({ headers, rawHeaders: repeated }))).code, 'invalid_token')
    const none = ['Host', 'game.example', 'X-Authorization', `Bearer ${user.access_token}`]
    assert.equal((await refusal(verifier.authenticateRequest({ headers, rawHeaders: none }))).code, 'missing_token')
  })

  it('refuses a token for another audience or issuer of the same Tessera', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const user = await signedIn(server)
    for (const overrides of [{ audience: 'https://other-api.example' }, { issuer: 'https://other-tessera.example' }]) {
      const { verifier } = createTestVerifier(server, overrides)
      assert.equal((await refusal(verifier.verifyAccessToken(user.access_token))).code, 'invalid_token')
    }
  })

  it('refuses an expired token once the leeway has passed, even after verifying it before', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, { TESSERA_ACCESS_TOKEN_TTL: '60s' }, { clockStart: start })
    const user = await signedIn(server)
    const { verifier } = createTestVerifier(server, { leewaySeconds: 5 })
    await verifier.verifyAccessToken(user.access_token)
    t.mock.timers.tick(64_000)
    await verifier.verifyAccessToken(user.access_token)
    t.mock.timers.tick(1_000)
    assert.equal((await refusal(verifier.verifyAccessToken(user.access_token))).code, 'invalid_token')
  })

  it('never takes a token for a verified one that shares its signature: the whole token must match', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const user = await signedIn(server)
    const { verifier } = createTestVerifier(server)
    await verifier.verifyAccessToken(user.access_token)
    const [header, payload, signature] = user.access_token.split('.')
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'))
    const promoted = Buffer.from(JSON.stringify({ ...claims, roles: ['admin', 'user'] })).toString('base64url')
    for (const forged of [
      `${header}.${promoted}.${signature}`,
      `${header}.${payload}.${signature}.${signature}`,
      `.${signature}`,
      signature ?? '',
    ]) {
      assert.equal((await refusal(verifier.verifyAccessToken(forged))).code, 'invalid_token')
      const request = { headers: { authorization: `Bearer ${forged}` } }
      assert.equal((await refusal(verifier.authenticateRequest(request))).code, 'invalid_token')
    }
    assert.deepEqual((await verifier.verifyAccessToken(user.access_token)).roles, ['user'])
  })

  it("fetches the JWKS once for many tokens and respects the server's max-age", async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const user = await signedIn(server)
    const { verifier, calls } = createTestVerifier(server, { verifiedTokenCacheSize: 0 })
    for (let index = 0; index < 20; index += 1) await verifier.verifyAccessToken(user.access_token)
    assert.equal(calls.jwks, 1)
    t.mock.timers.tick(299_000)
    await verifier.verifyAccessToken(user.access_token)
    assert.equal(calls.jwks, 1, 'still fresh before max-age=300')
    t.mock.timers.tick(1_000)
    await verifier.verifyAccessToken(user.access_token)
    assert.equal(calls.jwks, 2, 'refreshed at max-age=300')
  })

  it('refetches the JWKS at most once per cool-down for unknown kids, however many arrive', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const user = await signedIn(server)
    const { verifier, calls } = createTestVerifier(server, { jwks: { cooldownSeconds: 30 } })
    await verifier.verifyAccessToken(user.access_token)
    const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    t.mock.timers.tick(31_000)
    for (let index = 0; index < 100; index += 1) {
      const forged = await new SignJWT({ sid: 's', roles: ['admin'] })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: `invented-${index}` })
        .setIssuer(server.config.tokens.issuer)
        .setAudience(server.config.tokens.audience)
        .setSubject('someone')
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti(`jti-${index}`)
        .sign(attacker.privateKey)
      assert.equal((await refusal(verifier.verifyAccessToken(forged))).code, 'invalid_token')
    }
    assert.equal(calls.jwks, 2, 'the first fetch and one refetch')
  })

  it('answers unavailable (503) when the JWKS cannot be fetched, and recovers', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const user = await signedIn(server)
    let isDown = true
    const verifier = createVerifier({
      issuer: server.config.tokens.issuer,
      audience: server.config.tokens.audience,
      jwksUrl: `${server.url}/.well-known/jwks.json`,
      fetch: async (input, init) => (isDown ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init)),
    })
    const down = await refusal(verifier.verifyAccessToken(user.access_token))
    assert.deepEqual([down.code, down.status, down.challenge], ['unavailable', 503, null])
    isDown = false
    assert.equal((await verifier.verifyAccessToken(user.access_token)).userId, user.id)
  })

  it('keeps verifying with a fresh cached set while Tessera is briefly unreachable', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const user = await signedIn(server)
    let isDown = false
    const verifier = createVerifier({
      issuer: server.config.tokens.issuer,
      audience: server.config.tokens.audience,
      jwksUrl: `${server.url}/.well-known/jwks.json`,
      jwks: { maxAgeSeconds: 600 },
      verifiedTokenCacheSize: 0,
      fetch: async (input, init) => (isDown ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init)),
    })
    await verifier.verifyAccessToken(user.access_token)
    isDown = true
    t.mock.timers.tick(400_000)
    assert.equal((await verifier.verifyAccessToken(user.access_token)).userId, user.id, 'past max-age=300, within 600')
    t.mock.timers.tick(200_000)
    assert.equal((await refusal(verifier.verifyAccessToken(user.access_token))).code, 'unavailable', 'past 600')
  })

  it('refuses misuse at creation with a TypeError', () => {
    const base = { issuer: 'https://auth.example', audience: 'https://api.example' }
    assert.throws(() => createVerifier({ ...base, leewaySeconds: 31 }), TypeError)
    assert.throws(() => createVerifier({ ...base, leewaySeconds: -1 }), TypeError)
    assert.throws(() => createVerifier({ ...base, algorithms: [] }), TypeError)
    assert.throws(() => createVerifier({ ...base, algorithms: ['HS256' as 'EdDSA'] }), TypeError)
    assert.throws(() => createVerifier({ ...base, issuer: 'not a url' }), TypeError)
    assert.throws(() => createVerifier({ ...base, audience: '' }), TypeError)
    assert.throws(() => createVerifier({ ...base, algorithms: ['PS256' as 'RS256'] }), TypeError)
    assert.doesNotThrow(() => createVerifier({ ...base, leewaySeconds: 30, algorithms: ['ES256'] }))
    assert.doesNotThrow(() => createVerifier({ ...base, algorithms: ['EdDSA', 'RS256'] }))
  })

  it('refuses an EdDSA token when only ES256 is allowed', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const user = await signedIn(server)
    const { verifier } = createTestVerifier(server, { algorithms: ['ES256'] })
    assert.equal((await refusal(verifier.verifyAccessToken(user.access_token))).code, 'invalid_token')
  })

  it('accepts an RS256 token only when RS256 is listed: the default allow-list stays EdDSA and ES256', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, { TESSERA_SIGNING_ALGORITHM: 'RS256' }, { clockStart: start })
    const user = await signedIn(server)
    assert.equal(JSON.parse(Buffer.from(user.access_token.split('.')[0] ?? '', 'base64url').toString()).alg, 'RS256')
    const byDefault = createTestVerifier(server).verifier
    assert.equal((await refusal(byDefault.verifyAccessToken(user.access_token))).code, 'invalid_token')
    const { verifier } = createTestVerifier(server, { algorithms: ['RS256'] })
    assert.equal((await verifier.verifyAccessToken(user.access_token)).userId, user.id)
    // The key, not the header, fixes the algorithm: the same signature relabelled PS256 is refused.
    const [header = '', payload = '', signature = ''] = user.access_token.split('.')
    const relabelled = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), alg: 'PS256' }),
    ).toString('base64url')
    assert.equal(
      (await refusal(verifier.verifyAccessToken(`${relabelled}.${payload}.${signature}`))).code,
      'invalid_token',
    )
  })

  it('requireRoles() passes with every role and refuses with insufficient_role (403) otherwise', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const admin = await signInAsAdmin(server)
    const { verifier } = createTestVerifier(server)
    const principal = await verifier.verifyAccessToken(admin.access_token)
    // preferred_username is there to show; the user is principal.userId.
    assert.equal(principal.username, admin.username)
    assert.equal(principal.userId, admin.id)
    requireRoles(principal, ['admin'])
    requireRoles(principal, ['admin', 'user'])
    requireRoles(principal, [])
    const refused = await refusal(Promise.resolve().then(() => requireRoles(principal, ['admin', 'moderator'])))
    assert.deepEqual(
      [refused.code, refused.status, refused.challenge],
      ['insufficient_role', 403, 'Bearer error="insufficient_scope"'],
    )
  })

  it('readMaxAgeSeconds() reads max-age, treats no-store and no-cache as 0, and null when absent', () => {
    assert.equal(readMaxAgeSeconds('public, max-age=300'), 300)
    assert.equal(readMaxAgeSeconds('max-age="60", must-revalidate'), 60)
    assert.equal(readMaxAgeSeconds('no-store'), 0)
    assert.equal(readMaxAgeSeconds('public, no-cache'), 0)
    assert.equal(readMaxAgeSeconds('public, s-maxage=100'), null)
    assert.equal(readMaxAgeSeconds('public, max-age=abc'), null)
    assert.equal(readMaxAgeSeconds(null), null)
  })
})

describe('verifier with introspection', () => {
  it('refuses a token the moment its session ends, and takes the current roles', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const client = await createIntrospectionClient(server)
    const admin = await signInAsAdmin(server)
    const { verifier, calls } = createTestVerifier(server, {
      introspection: { clientId: client.clientId, clientSecret: client.clientSecret, cacheSeconds: 0 },
    })
    assert.deepEqual((await verifier.verifyAccessToken(admin.access_token)).roles, ['admin', 'user'])
    // Another admin stays: the last one cannot be demoted.
    await signInAsAdmin(server)
    await server.application.accountAdmin.replaceUserRoles(admin.id, ['user'], {
      actorUserId: null,
      context: { ip: null, userAgent: 'test', requestId: null },
    })
    assert.deepEqual((await verifier.verifyAccessToken(admin.access_token)).roles, ['user'])
    await server.request('/v1/auth/logout', { method: 'POST', bearer: admin.access_token })
    assert.equal((await refusal(verifier.verifyAccessToken(admin.access_token))).code, 'invalid_token')
    assert.equal(calls.introspection, 3)
  })

  it('reuses an answer for the cache duration, then asks again', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    const { verifier, calls } = createTestVerifier(server, {
      introspection: { clientId: client.clientId, clientSecret: client.clientSecret, cacheSeconds: 5 },
    })
    await verifier.verifyAccessToken(user.access_token)
    await server.request('/v1/auth/logout', { method: 'POST', bearer: user.access_token })
    t.mock.timers.tick(4_999)
    await verifier.verifyAccessToken(user.access_token)
    assert.equal(calls.introspection, 1)
    t.mock.timers.tick(1)
    assert.equal((await refusal(verifier.verifyAccessToken(user.access_token))).code, 'invalid_token')
    assert.equal(calls.introspection, 2)
  })

  it('fails closed with unavailable when the client credentials are wrong or Tessera is unreachable', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    const wrong = createTestVerifier(server, { introspection: { clientId: client.clientId, clientSecret: 'wrong' } })
    assert.equal((await refusal(wrong.verifier.verifyAccessToken(user.access_token))).code, 'unavailable')
    const unreachable = createTestVerifier(server, {
      introspection: {
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        url: 'http://127.0.0.1:1/v1/oauth/introspect',
      },
    })
    assert.equal((await refusal(unreachable.verifier.verifyAccessToken(user.access_token))).code, 'unavailable')
  })

  it('does not ask Tessera about a token that fails the offline checks', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const client = await createIntrospectionClient(server)
    const { verifier, calls } = createTestVerifier(server, {
      introspection: { clientId: client.clientId, clientSecret: client.clientSecret },
    })
    await refusal(verifier.verifyAccessToken('a.b.c'))
    assert.equal(calls.introspection, 0)
  })
})

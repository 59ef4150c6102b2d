import assert from 'node:assert/strict'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose'
import { describe, it } from 'node:test'
import { logInWithToken, registerUser, startTestServer, type TestServer } from '../helpers/test-server.ts'

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

async function signedIn(server: TestServer) {
  const { username, id } = await registerUser(server)
  return { id, ...(await logInWithToken(server, username)) }
}

describe('access tokens', () => {
  it('carry the RFC 9068 header and the documented claims only', async (t) => {
    const server = await startTestServer(t)
    const tokens = await signedIn(server)
    assert.equal(tokens.token_type, 'Bearer')
    assert.equal(tokens.expires_in, 600)
    const header = decodeProtectedHeader(tokens.access_token)
    assert.equal(header.typ, 'at+jwt')
    assert.equal(header.alg, 'EdDSA')
    assert.equal(typeof header.kid, 'string')
    const claims = decodeJwt(tokens.access_token)
    assert.deepEqual(Object.keys(claims).sort(), [
      'amr',
      'aud',
      'auth_time',
      'client_id',
      'exp',
      'iat',
      'iss',
      'jti',
      'preferred_username',
      'roles',
      'sid',
      'sub',
    ])
    assert.deepEqual(claims.amr, ['pwd'])
    assert.equal(claims.client_id, 'tessera')
    assert.equal(claims.iss, server.config.tokens.issuer)
    assert.equal(claims.sub, tokens.id)
    assert.equal(claims.sid, tokens.session_id)
    assert.deepEqual(claims.roles, ['user'])
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 600)
  })

  it('verify with an independent verifier against the published JWKS, which holds no private key', async (t) => {
    const server = await startTestServer(t)
    const tokens = await signedIn(server)
    const jwks = await server.request('/.well-known/jwks.json')
    assert.equal(jwks.status, 200)
    for (const key of jwks.json.keys) {
      for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(key[privateMember], undefined)
      assert.equal(key.use, 'sig')
      assert.equal(key.alg, 'EdDSA')
    }
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks.json), {
      issuer: server.config.tokens.issuer,
      audience: server.config.tokens.audience,
      typ: 'at+jwt',
      currentDate: server.clock.now(),
    })
    assert.equal(payload.sub, tokens.id)
  })

  it('refuses forged, tampered and foreign tokens with one generic 401', async (t) => {
    const server = await startTestServer(t)
    const tokens = await signedIn(server)
    const [headerPart, payloadPart, signaturePart] = tokens.access_token.split('.') as [string, string, string]
    const header = decodeProtectedHeader(tokens.access_token)
    const claims = decodeJwt(tokens.access_token)
    const foreignKey = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const foreign = await new SignJWT({ ...claims })
      .setProtectedHeader({ ...header, alg: 'EdDSA' })
      .sign(foreignKey.privateKey)
    const hs256 = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', kid: header.kid, typ: 'at+jwt' })
      .sign(new TextEncoder().encode('a-secret-anyone-could-guess-1234'))
    const flipped = signaturePart.startsWith('A') ? `B${signaturePart.slice(1)}` : `A${signaturePart.slice(1)}`
    const forged = [
      ['alg none', `${base64url({ alg: 'none', typ: 'at+jwt' })}.${payloadPart}.`],
      ['HS256 with a guessed key', hs256],
      ['signed by another key under the same kid', foreign],
      ['payload changed', `${headerPart}.${base64url({ ...claims, roles: ['admin'] })}.${signaturePart}`],
      ['signature changed', `${headerPart}.${payloadPart}.${flipped}`],
      ['unknown kid', `${base64url({ ...header, kid: 'nope' })}.${payloadPart}.${signaturePart}`],
      ['kid __proto__', `${base64url({ ...header, kid: '__proto__' })}.${payloadPart}.${signaturePart}`],
      [
        'embedded jwk',
        `${base64url({ ...header, jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } })}.${payloadPart}.${signaturePart}`,
      ],
      ['unknown crit', `${base64url({ ...header, crit: ['exp2'], exp2: 1 })}.${payloadPart}.${signaturePart}`],
      ['typ JWT', `${base64url({ ...header, typ: 'JWT' })}.${payloadPart}.${signaturePart}`],
      ['JSON serialization', JSON.stringify({ protected: headerPart, payload: payloadPart, signature: signaturePart })],
      ['four segments', `${tokens.access_token}.x`],
      ['refresh token as bearer', tokens.refresh_token],
      ['huge', 'a'.repeat(7000)],
    ] as const
    const bodies = new Set<string>()
    for (const [name, token] of forged) {
      const response = await server.request('/v1/me', { headers: { authorization: `Bearer ${token}` } })
      assert.equal(response.status, 401, name)
      assert.equal(response.headers.get('www-authenticate'), 'Bearer error="invalid_token"', name)
      assert.doesNotMatch(response.text, /signature|kid|jose|ERR_JW|expired|stack/i, name)
      bodies.add(JSON.stringify({ ...response.json, instance: null }))
    }
    assert.equal(bodies.size, 1, 'every refusal has the same body')
    assert.equal(
      (await server.request('/v1/me', { bearer: tokens.access_token })).status,
      200,
      'the genuine token still works',
    )
  })

  it('expire after their lifetime plus the leeway', async (t) => {
    const server = await startTestServer(t, { TESSERA_ACCESS_TOKEN_TTL: '60s', TESSERA_CLOCK_LEEWAY: '5s' })
    const tokens = await signedIn(server)
    server.clock.advanceSeconds(64)
    assert.equal((await server.request('/v1/me', { bearer: tokens.access_token })).status, 200)
    server.clock.advanceSeconds(2)
    assert.equal((await server.request('/v1/me', { bearer: tokens.access_token })).status, 401)
  })

  it('are accepted only in the Authorization header', async (t) => {
    const server = await startTestServer(t)
    const tokens = await signedIn(server)
    for (const query of ['access_token', 'session', 'sid']) {
      const response = await server.request(`/v1/me?${query}=${tokens.access_token}`)
      assert.equal(response.status, 401)
    }
    const lowercaseScheme = await server.request('/v1/me', {
      headers: { authorization: `bearer  ${tokens.access_token}` },
    })
    assert.equal(lowercaseScheme.status, 401)
  })

  it('take the issuer from configuration, never from the Host header', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const response = await server.request('/v1/auth/login', {
      body: { username, password: 'correct horse battery staple' },
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
    })
    assert.equal(response.status, 200)
    assert.equal(decodeJwt(response.json.access_token).iss, server.config.tokens.issuer)
    for (const path of ['/.well-known/jwks.json', '/openapi.json']) {
      const page = await server.request(path, { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } })
      assert.doesNotMatch(page.text, /evil\.example/)
    }
  })
})

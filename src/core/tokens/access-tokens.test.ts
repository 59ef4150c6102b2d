import assert from 'node:assert/strict'
import { createHmac, pbkdf2, randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import {
  decodeJwt,
  decodeProtectedHeader,
  FlattenedSign,
  generateKeyPair,
  GeneralSign,
  jwtVerify,
  SignJWT,
  type JWTPayload,
} from 'jose'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { createAccessTokens, type AccessTokenSettings } from './access-tokens.ts'
import { createKeyProtector } from './key-protection.ts'
import { createKeyRing } from './signing-keys.ts'
import type { SigningAlgorithm } from './store.ts'

const settings: AccessTokenSettings = {
  issuer: 'https://auth.example',
  audience: 'https://api.example',
  clientId: 'game-client',
  accessTokenTtlSeconds: 600,
  leewaySeconds: 5,
}
const subject = { userId: 'b9a1f6c2-0000-4000-8000-000000000001', sessionId: 'session-1', roles: ['admin', 'user'] }

async function setUp(t: TestContext, signingAlgorithm: SigningAlgorithm = 'EdDSA') {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const keyRing = createKeyRing({
    store: stores.signingKeys,
    clock,
    protector: createKeyProtector(randomBytes(32)),
    settings: {
      signingAlgorithm,
      keyActivationDelaySeconds: 600,
      accessTokenTtlSeconds: 600,
      leewaySeconds: 5,
    },
  })
  await keyRing.loadKeys()
  const accessTokens = createAccessTokens({ keyRing, clock, settings })
  const signingKey = keyRing.currentSigningKey()

  /** Signs claims with the real key, for tokens Tessera would never issue itself. */
  function signWithRealKey(payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    const nowSeconds = Math.floor(clock.now().getTime() / 1000)
    return new SignJWT({ sid: subject.sessionId, roles: subject.roles, client_id: settings.clientId, ...payload })
      .setProtectedHeader({ alg: signingKey.algorithm, kid: signingKey.kid, typ: 'at+jwt', ...header })
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setSubject(subject.userId)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + settings.accessTokenTtlSeconds)
      .setJti('jti-1')
      .sign(signingKey.privateKey)
  }

  return { clock, keyRing, accessTokens, signingKey, signWithRealKey }
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

function replaceSegment(token: string, index: number, segment: string): string {
  const parts = token.split('.')
  parts[index] = segment
  return parts.join('.')
}

describe('access tokens', () => {
  it('issueAccessToken() signs an at+jwt with the current kid and every claim', async (t) => {
    const { clock, accessTokens, signingKey } = await setUp(t)
    const { accessToken, expiresInSeconds } = await accessTokens.issueAccessToken(subject)
    assert.equal(expiresInSeconds, 600)
    assert.deepEqual(decodeProtectedHeader(accessToken), { alg: 'EdDSA', kid: signingKey.kid, typ: 'at+jwt' })
    const claims = decodeJwt(accessToken)
    const nowSeconds = clock.now().getTime() / 1000
    assert.deepEqual(Object.keys(claims).sort(), [
      'aud',
      'client_id',
      'exp',
      'iat',
      'iss',
      'jti',
      'roles',
      'sid',
      'sub',
    ])
    assert.equal(claims.client_id, 'game-client')
    assert.equal(claims.iss, settings.issuer)
    assert.equal(claims.aud, settings.audience)
    assert.equal(claims.sub, subject.userId)
    assert.equal(claims.sid, subject.sessionId)
    assert.deepEqual(claims.roles, subject.roles)
    assert.equal(claims.iat, nowSeconds)
    assert.equal(claims.exp, nowSeconds + 600)
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/)
  })

  it("issueAccessToken() carries the session's authentication as auth_time and amr, which verification reads back", async (t) => {
    const { clock, accessTokens } = await setUp(t)
    const authenticatedAt = new Date(clock.now().getTime() - 90_500)
    const { accessToken } = await accessTokens.issueAccessToken({
      ...subject,
      authentication: { authenticatedAt, amr: ['pwd', 'otp', 'mfa'] },
    })
    const claims = decodeJwt(accessToken)
    assert.equal(claims.auth_time, Math.floor(authenticatedAt.getTime() / 1000))
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'])
    const verified = await accessTokens.verifyAccessToken(accessToken)
    assert.equal(verified?.authTime, Math.floor(authenticatedAt.getTime() / 1000))
    assert.deepEqual(verified?.amr, ['pwd', 'otp', 'mfa'])
    const without = await accessTokens.verifyAccessToken((await accessTokens.issueAccessToken(subject)).accessToken)
    assert.deepEqual([without?.authTime, without?.amr], [null, []])
  })

  for (const algorithm of ['EdDSA', 'RS256'] as const) {
    it(`issueAccessToken() writes with an ${algorithm} key the very token jose's SignJWT writes for the same claims`, async (t) => {
      const { accessTokens, signingKey } = await setUp(t, algorithm)
      const authenticatedAt = new Date('2026-01-01T00:00:00Z')
      const { accessToken } = await accessTokens.issueAccessToken({
        ...subject,
        username: 'Ålice',
        authentication: { authenticatedAt, amr: ['swk'] },
      })
      // Both signatures are deterministic (RFC 8032; RSASSA-PKCS1-v1_5): same input, same bytes.
      const claims = decodeJwt(accessToken)
      const expected = await new SignJWT({
        sid: subject.sessionId,
        roles: subject.roles,
        client_id: settings.clientId,
        preferred_username: 'Ålice',
        auth_time: authenticatedAt.getTime() / 1000,
        amr: ['swk'],
      })
        .setProtectedHeader({ alg: algorithm, kid: signingKey.kid, typ: 'at+jwt' })
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setSubject(subject.userId)
        .setIssuedAt(Number(claims.iat))
        .setExpirationTime(Number(claims.exp))
        .setJti(String(claims.jti))
        .sign(signingKey.privateKey)
      assert.equal(accessToken, expected)
    })
  }

  it('issueAccessToken() signs with an ES256 key a token that jose verifies, its signature the raw 64 bytes JWS uses', async (t) => {
    const { accessTokens, keyRing, signingKey } = await setUp(t, 'ES256')
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    assert.deepEqual(decodeProtectedHeader(accessToken), { alg: 'ES256', kid: signingKey.kid, typ: 'at+jwt' })
    assert.equal(Buffer.from(accessToken.split('.')[2] ?? '', 'base64url').length, 64)
    const publicKey = keyRing.findVerificationKey(signingKey.kid)?.publicKey
    assert.ok(publicKey)
    const { payload } = await jwtVerify(accessToken, publicKey, { algorithms: ['ES256'], typ: 'at+jwt' })
    assert.equal(payload.sid, subject.sessionId)
    assert.equal((await accessTokens.verifyAccessToken(accessToken))?.sub, subject.userId)
  })

  for (const algorithm of ['EdDSA', 'ES256'] as const) {
    it(`issueAccessToken() with an ${algorithm} key does not wait behind password hashes that fill the thread pool`, async (t) => {
      const { accessTokens } = await setUp(t, algorithm)
      // Twice as many slow jobs as libuv has threads (4 unless UV_THREADPOOL_SIZE says more).
      const poolSize = Math.max(4, Number(process.env.UV_THREADPOOL_SIZE ?? 4))
      let settledJobs = 0
      const jobs = Array.from(
        { length: poolSize * 2 },
        () =>
          new Promise<void>((resolve, reject) =>
            pbkdf2('password', 'salt', 200_000, 32, 'sha512', (error) => {
              settledJobs += 1
              if (error) reject(error)
              else resolve()
            }),
          ),
      )
      t.after(() => Promise.all(jobs))
      const { accessToken } = await accessTokens.issueAccessToken(subject)
      assert.equal(settledJobs, 0)
      assert.equal((await accessTokens.verifyAccessToken(accessToken))?.sid, subject.sessionId)
    })
  }

  it('issueAccessToken() gives every token its own jti', async (t) => {
    const { accessTokens } = await setUp(t)
    const first = decodeJwt((await accessTokens.issueAccessToken(subject)).accessToken)
    const second = decodeJwt((await accessTokens.issueAccessToken(subject)).accessToken)
    assert.notEqual(first.jti, second.jti)
  })

  it('verifyAccessToken() returns the claims of a token it issued', async (t) => {
    const { accessTokens } = await setUp(t)
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    const claims = await accessTokens.verifyAccessToken(accessToken)
    assert.equal(claims?.sub, subject.userId)
    assert.equal(claims?.sid, subject.sessionId)
    assert.equal(claims?.clientId, 'game-client')
    assert.deepEqual(claims?.roles, subject.roles)
  })

  it('verifyAccessToken() returns null for a token whose payload was changed', async (t) => {
    const { accessTokens } = await setUp(t)
    const { accessToken } = await accessTokens.issueAccessToken({ ...subject, roles: ['user'] })
    const payload = decodeJwt(accessToken)
    const tampered = replaceSegment(accessToken, 1, encodeSegment({ ...payload, roles: ['admin', 'user'] }))
    assert.equal(await accessTokens.verifyAccessToken(tampered), null)
  })

  it('verifyAccessToken() returns null for a token whose signature was changed', async (t) => {
    const { accessTokens } = await setUp(t)
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    const signature = Buffer.from(accessToken.split('.')[2] ?? '', 'base64url')
    signature[0] = (signature[0] ?? 0) ^ 0x01
    const tampered = replaceSegment(accessToken, 2, signature.toString('base64url'))
    assert.equal(await accessTokens.verifyAccessToken(tampered), null)
  })

  it('verifyAccessToken() returns null for an alg none token', async (t) => {
    const { accessTokens, signingKey } = await setUp(t)
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    const header = encodeSegment({ alg: 'none', kid: signingKey.kid, typ: 'at+jwt' })
    const payload = accessToken.split('.')[1]
    assert.equal(await accessTokens.verifyAccessToken(`${header}.${payload}.`), null)
    assert.equal(await accessTokens.verifyAccessToken(`${header}.${payload}.AAAA`), null)
  })

  it('verifyAccessToken() returns null for an HS256 token keyed with the public key', async (t) => {
    const { keyRing, accessTokens, signingKey } = await setUp(t)
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    const payload = accessToken.split('.')[1]
    const publicJwk = JSON.stringify(keyRing.publicJwks().keys[0])
    for (const secret of [publicJwk, signingKey.kid]) {
      const header = encodeSegment({ alg: 'HS256', kid: signingKey.kid, typ: 'at+jwt' })
      const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')
      assert.equal(await accessTokens.verifyAccessToken(`${header}.${payload}.${signature}`), null)
    }
  })

  it('verifyAccessToken() returns null for a token signed by a key with an unknown kid', async (t) => {
    const { clock, accessTokens } = await setUp(t)
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const nowSeconds = Math.floor(clock.now().getTime() / 1000)
    const forged = await new SignJWT({ sid: subject.sessionId, roles: subject.roles })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'unknown-kid', typ: 'at+jwt' })
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setSubject(subject.userId)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + 60)
      .setJti('forged')
      .sign(privateKey)
    assert.equal(await accessTokens.verifyAccessToken(forged), null)
  })

  it('verifyAccessToken() returns null for a real signature under a kid of an object prototype member', async (t) => {
    const { accessTokens, signWithRealKey } = await setUp(t)
    for (const kid of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      assert.equal(await accessTokens.verifyAccessToken(await signWithRealKey({}, { kid })), null, kid)
    }
  })

  it('verifyAccessToken() returns null for a token without a kid', async (t) => {
    const { accessTokens, signWithRealKey } = await setUp(t)
    assert.equal(await accessTokens.verifyAccessToken(await signWithRealKey({}, { kid: undefined })), null)
  })

  it('verifyAccessToken() accepts a token signed with the real key (control for the forgeries)', async (t) => {
    const { accessTokens, signWithRealKey } = await setUp(t)
    assert.notEqual(await accessTokens.verifyAccessToken(await signWithRealKey({})), null)
  })

  it('verifyAccessToken() returns null for a token of another type', async (t) => {
    const { accessTokens, signWithRealKey } = await setUp(t)
    assert.equal(await accessTokens.verifyAccessToken(await signWithRealKey({}, { typ: 'JWT' })), null)
    assert.equal(await accessTokens.verifyAccessToken(await signWithRealKey({}, { typ: undefined })), null)
  })

  it('verifyAccessToken() returns null for a token missing sid or client_id, or carrying malformed roles', async (t) => {
    const { accessTokens, signWithRealKey } = await setUp(t)
    assert.notEqual(await accessTokens.verifyAccessToken(await signWithRealKey({})), null)
    assert.equal(await accessTokens.verifyAccessToken(await signWithRealKey({ client_id: undefined })), null)
    assert.equal(await accessTokens.verifyAccessToken(await signWithRealKey({ client_id: 7 })), null)
    assert.equal(await accessTokens.verifyAccessToken(await signWithRealKey({ sid: undefined })), null)
    assert.equal(await accessTokens.verifyAccessToken(await signWithRealKey({ roles: 'admin' })), null)
    assert.equal(await accessTokens.verifyAccessToken(await signWithRealKey({ roles: [1] })), null)
  })

  it('verifyAccessToken() never takes a token for a verified one that shares its signature', async (t) => {
    const { accessTokens } = await setUp(t)
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    assert.notEqual(await accessTokens.verifyAccessToken(accessToken), null)
    const [header, payload, signature] = accessToken.split('.')
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'))
    const impersonating = encodeSegment({ ...claims, sub: 'someone-else' })
    for (const forged of [
      `${header}.${impersonating}.${signature}`,
      `x${header}.${payload}.${signature}`,
      `.${signature}`,
      signature ?? '',
    ]) {
      assert.equal(await accessTokens.verifyAccessToken(forged), null, forged.slice(0, 20))
    }
    assert.equal((await accessTokens.verifyAccessToken(accessToken))?.sub, subject.userId)
  })

  it('verifyAccessToken() accepts a token within the leeway after exp', async (t) => {
    const { clock, accessTokens } = await setUp(t)
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    clock.advanceSeconds(settings.accessTokenTtlSeconds + settings.leewaySeconds - 1)
    assert.notEqual(await accessTokens.verifyAccessToken(accessToken), null)
  })

  it('verifyAccessToken() returns null for a token expired beyond the leeway', async (t) => {
    const { clock, accessTokens } = await setUp(t)
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    clock.advanceSeconds(settings.accessTokenTtlSeconds + settings.leewaySeconds + 1)
    assert.equal(await accessTokens.verifyAccessToken(accessToken), null)
  })

  it('verifyAccessToken() returns null for an expired token even after an earlier successful check', async (t) => {
    const { clock, accessTokens } = await setUp(t)
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    assert.notEqual(await accessTokens.verifyAccessToken(accessToken), null)
    clock.advanceSeconds(settings.accessTokenTtlSeconds + settings.leewaySeconds)
    assert.equal(await accessTokens.verifyAccessToken(accessToken), null)
  })

  it('verifyAccessToken() returns null for a token from another issuer', async (t) => {
    const { clock, keyRing, accessTokens } = await setUp(t)
    const other = createAccessTokens({ keyRing, clock, settings: { ...settings, issuer: 'https://evil.example' } })
    const { accessToken } = await other.issueAccessToken(subject)
    assert.equal(await accessTokens.verifyAccessToken(accessToken), null)
  })

  it('verifyAccessToken() returns null for a token for another audience', async (t) => {
    const { clock, keyRing, accessTokens } = await setUp(t)
    const otherSettings = { ...settings, audience: 'https://other-api.example' }
    const other = createAccessTokens({ keyRing, clock, settings: otherSettings })
    const { accessToken } = await other.issueAccessToken(subject)
    assert.equal(await accessTokens.verifyAccessToken(accessToken), null)
  })

  it('verifyAccessToken() returns null for a JWS in JSON serialization', async (t) => {
    const { accessTokens, signingKey } = await setUp(t)
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    const payload = Buffer.from(accessToken.split('.')[1] ?? '', 'base64url')
    const header = { alg: signingKey.algorithm, kid: signingKey.kid, typ: 'at+jwt' }
    const flattened = await new FlattenedSign(payload).setProtectedHeader(header).sign(signingKey.privateKey)
    const general = await new GeneralSign(payload)
      .addSignature(signingKey.privateKey)
      .setProtectedHeader(header)
      .done()
      .sign()
    assert.equal(await accessTokens.verifyAccessToken(JSON.stringify(flattened)), null)
    assert.equal(await accessTokens.verifyAccessToken(JSON.stringify(general)), null)
    // The same signature in compact form is accepted, so the refusal is about the serialization.
    const compact = `${flattened.protected}.${flattened.payload}.${flattened.signature}`
    assert.notEqual(await accessTokens.verifyAccessToken(compact), null)
  })

  it('verifyAccessToken() returns null for junk input without throwing', async (t) => {
    const { accessTokens } = await setUp(t)
    for (const junk of ['', 'a.b', 'a.b.c', '...', 'x'.repeat(10_000), `${'a'.repeat(9000)}.b.c`]) {
      assert.equal(await accessTokens.verifyAccessToken(junk), null)
    }
  })
})

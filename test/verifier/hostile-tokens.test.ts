/**
 * The hostile-token set against both checkers: Tessera's own endpoints (401 with one generic
 * body) and the verifier library (invalid_token). A listener named by `jku`/`x5u` headers must
 * never be called, and the genuine token must still work afterwards.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import { VerifierError, type VerifierOptions } from '../../src/verifier/index.ts'
import { decodeProtectedHeader } from 'jose'
import {
  buildHostileTokens,
  buildPsychicSignatureTokens,
  buildRsaConfusionTokens,
  signWithRawHeader,
  type HostileToken,
} from '../helpers/hostile-tokens.ts'
import { createIntrospectionClient, introspect } from '../helpers/token-lifecycle.ts'
import { createTestVerifier } from '../helpers/verifier.ts'
import { logInWithToken, registerUser, startTestServer, type TestServer } from '../helpers/test-server.ts'

async function startListener(t: TestContext): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = []
  const listener = createServer((request, response) => {
    hits.push(request.url ?? '')
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}')
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => listener.close(() => resolve())))
  const address = listener.address()
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, hits }
}

function startAtRealTime(t: TestContext): Date {
  const start = new Date(Math.floor(Date.now() / 1000) * 1000)
  t.mock.timers.enable({ apis: ['Date'], now: start.getTime() })
  return start
}

async function assertRefusedEverywhere(
  server: TestServer,
  tokens: HostileToken[],
  genuine: string,
  verifierOptions: Partial<VerifierOptions> = {},
): Promise<void> {
  const client = await createIntrospectionClient(server, `checker-${tokens.length}`)
  const { verifier } = createTestVerifier(server, verifierOptions)
  const bodies = new Set<string>()
  const durationsMs: number[] = []
  for (const [name, token] of tokens) {
    const startedAt = performance.now()
    const response = await server.request('/v1/me', { headers: { authorization: `Bearer ${token}` } })
    durationsMs.push(performance.now() - startedAt)
    // Over 16 KiB of headers, Node's parser answers 431 before Tessera sees the token.
    const isOversized = token.length > 16 * 1024
    assert.equal(response.status, isOversized ? 431 : 401, `Tessera: ${name}`)
    if (!isOversized) {
      assert.equal(response.headers.get('www-authenticate'), 'Bearer error="invalid_token"', name)
      assert.doesNotMatch(response.text, /signature|kid|jose|ERR_J|expired|stack|crit|alg/i, name)
      bodies.add(JSON.stringify({ ...response.json, instance: null }))
    }
    const introspection = await introspect(server, client, token)
    if (isOversized) assert.equal(introspection.status, 413, `introspection: ${name}`)
    else assert.equal(introspection.text, '{"active":false}', `introspection: ${name}`)
    try {
      await verifier.verifyAccessToken(token)
      assert.fail(`the verifier accepted: ${name}`)
    } catch (error) {
      assert.ok(error instanceof VerifierError, `${name}: ${String(error)}`)
      assert.equal(error.code, 'invalid_token', name)
    }
  }
  assert.equal(bodies.size, 1, 'every refusal has the same body')
  // JW-14: hostile tokens are refused cheaply (median well under 50 ms, over real HTTP).
  const median = durationsMs.sort((a, b) => a - b)[Math.floor(durationsMs.length / 2)] ?? 0
  assert.ok(median < 50, `median ${median.toFixed(1)} ms`)
  // The persistence check: the genuine token still works everywhere.
  assert.equal((await server.request('/v1/me', { bearer: genuine })).status, 200)
  assert.equal((await verifier.verifyAccessToken(genuine)).sessionId.length > 0, true)
}

describe('hostile tokens', () => {
  it('are refused by Tessera, its introspection and the verifier; jku/x5u are never fetched', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const listener = await startListener(t)
    const { username } = await registerUser(server)
    const genuine = (await logInWithToken(server, username)).access_token
    const tokens = await buildHostileTokens(server, genuine, listener.url)
    assert.ok(tokens.length >= 40)
    await assertRefusedEverywhere(server, tokens, genuine)
    assert.deepEqual(listener.hits, [])
  })

  it('the raw signing used for the crit case yields a valid token with an ordinary header (control)', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const { username } = await registerUser(server)
    const genuine = (await logInWithToken(server, username)).access_token
    const resigned = await signWithRawHeader(server, decodeProtectedHeader(genuine), genuine.split('.')[1] ?? '')
    assert.equal((await server.request('/v1/me', { bearer: resigned })).status, 200)
    const { verifier } = createTestVerifier(server)
    assert.equal(
      (await verifier.verifyAccessToken(resigned)).claims.sub,
      (await verifier.verifyAccessToken(genuine)).claims.sub,
    )
  })

  it('ES256 psychic signatures (CVE-2022-21449) are refused by both', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, { TESSERA_SIGNING_ALGORITHM: 'ES256' }, { clockStart: start })
    const { username } = await registerUser(server)
    const genuine = (await logInWithToken(server, username)).access_token
    await assertRefusedEverywhere(server, buildPsychicSignatureTokens(genuine), genuine)
  })

  it('RSA confusions (HS256 keyed with the public key, PSS and RS384 relabels) are refused by both, RS256 allowed', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, { TESSERA_SIGNING_ALGORITHM: 'RS256' }, { clockStart: start })
    const { username } = await registerUser(server)
    const genuine = (await logInWithToken(server, username)).access_token
    await assertRefusedEverywhere(server, buildRsaConfusionTokens(server, genuine), genuine, { algorithms: ['RS256'] })
  })

  it('are refused quickly: the 100 KB token in well under 100 ms by the verifier', async (t) => {
    const start = startAtRealTime(t)
    const server = await startTestServer(t, {}, { clockStart: start })
    const { username } = await registerUser(server)
    const genuine = (await logInWithToken(server, username)).access_token
    const { verifier } = createTestVerifier(server)
    await verifier.verifyAccessToken(genuine)
    const [, payload = ''] = genuine.split('.')
    const huge = `${genuine.split('.')[0]}.${payload}${'A'.repeat(100 * 1024)}.${genuine.split('.')[2]}`
    const started = performance.now()
    await assert.rejects(verifier.verifyAccessToken(huge), VerifierError)
    assert.ok(performance.now() - started < 100)
  })
})

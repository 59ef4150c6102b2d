/** The example game server against a real Tessera, as its README shows it. */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { createVerifier } from '../../src/verifier/index.ts'
import { buildGameServer } from '../../examples/game-server/game-server.ts'
import { createIntrospectionClient, signInAsAdmin } from '../helpers/token-lifecycle.ts'
import { logInWithToken, registerUser, startTestServer, type TestServer } from '../helpers/test-server.ts'

async function startScene(t: TestContext, options: { withIntrospection: boolean }) {
  const start = new Date(Math.floor(Date.now() / 1000) * 1000)
  t.mock.timers.enable({ apis: ['Date'], now: start.getTime() })
  const tessera: TestServer = await startTestServer(t, {}, { clockStart: start })
  const client = options.withIntrospection ? await createIntrospectionClient(tessera) : null
  const verifier = createVerifier({
    issuer: tessera.config.tokens.issuer,
    audience: tessera.config.tokens.audience,
    jwksUrl: `${tessera.url}/.well-known/jwks.json`,
    ...(client ? { introspection: { ...client, url: `${tessera.url}/v1/oauth/introspect`, cacheSeconds: 0 } } : {}),
  })
  const game = buildGameServer({ verifier, tesseraUrl: tessera.url })
  const url = await game.listen({ host: '127.0.0.1', port: 0 })
  t.after(() => game.close())
  const call = async (method: string, path: string, token?: string) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, json: text === '' ? null : JSON.parse(text) }
  }
  return { tessera, call }
}

describe('example game server', () => {
  it('runs on the verifier sources, not on a build that may be stale', () => {
    assert.equal(
      import.meta.resolve('tessera/verifier'),
      new URL('../../src/verifier/index.ts', import.meta.url).href,
      'run with node --conditions=tessera-source, as npm test does',
    )
  })

  it('lets players with a Tessera token join matches and refuses everyone else', async (t) => {
    const { tessera, call } = await startScene(t, { withIntrospection: false })
    const { username, id } = await registerUser(tessera)
    const player = await logInWithToken(tessera, username)
    assert.deepEqual((await call('GET', '/me', player.access_token)).json, {
      user_id: id,
      username,
      session_id: player.session_id,
      roles: ['user'],
    })
    assert.deepEqual((await call('POST', '/matches/join', player.access_token)).json, {
      match_id: 'match-1',
      players: 1,
    })
    const anonymous = await call('POST', '/matches/join')
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer')
    assert.equal((await call('POST', '/matches/join', 'forged.token.here')).status, 401)
    assert.equal((await call('GET', '/health')).status, 200)
  })

  it('lets only admins kick players', async (t) => {
    const { tessera, call } = await startScene(t, { withIntrospection: false })
    const { username, id } = await registerUser(tessera)
    const player = await logInWithToken(tessera, username)
    const admin = await signInAsAdmin(tessera)
    await call('POST', '/matches/join', player.access_token)
    assert.equal((await call('POST', `/matches/kick/${id}`, player.access_token)).status, 403)
    assert.deepEqual((await call('POST', `/matches/kick/${id}`, admin.access_token)).json, {
      kicked: true,
      ended_sessions: 1,
    })
    assert.deepEqual((await call('POST', `/matches/kick/${id}`, admin.access_token)).json, {
      kicked: false,
      ended_sessions: 0,
    })
  })

  it('a kick ends the player at Tessera too: with a service client they cannot rejoin, and their refresh fails', async (t) => {
    // regression: #12 (the kicked player rejoined at once)
    const { tessera, call } = await startScene(t, { withIntrospection: true })
    const { username, id } = await registerUser(tessera)
    const player = await logInWithToken(tessera, username)
    const admin = await signInAsAdmin(tessera)
    assert.equal((await call('POST', '/matches/join', player.access_token)).status, 200)
    assert.deepEqual((await call('POST', `/matches/kick/${id}`, admin.access_token)).json, {
      kicked: true,
      ended_sessions: 1,
    })
    assert.equal((await call('POST', '/matches/join', player.access_token)).status, 401)
    assert.equal(
      (await tessera.request('/v1/auth/refresh', { body: { refresh_token: player.refresh_token } })).status,
      400,
    )
  })

  it('with a service client, a logout at Tessera locks the player out at once', async (t) => {
    const { tessera, call } = await startScene(t, { withIntrospection: true })
    const { username } = await registerUser(tessera)
    const player = await logInWithToken(tessera, username)
    assert.equal((await call('POST', '/matches/join', player.access_token)).status, 200)
    await tessera.request('/v1/auth/logout', { method: 'POST', bearer: player.access_token })
    assert.equal((await call('POST', '/matches/join', player.access_token)).status, 401)
  })

  it('without one, works offline: a logged-out token is accepted until it expires', async (t) => {
    const { tessera, call } = await startScene(t, { withIntrospection: false })
    const { username } = await registerUser(tessera)
    const player = await logInWithToken(tessera, username)
    await tessera.request('/v1/auth/logout', { method: 'POST', bearer: player.access_token })
    assert.equal((await call('POST', '/matches/join', player.access_token)).status, 200)
  })
})

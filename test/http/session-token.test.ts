/**
 * `POST /v1/auth/token`: an access token for a cookie session, so a web page can hand its game
 * client a bearer token without a second sign-in. It is one session: ending it by any door ends
 * both credentials at once.
 */
import assert from 'node:assert/strict'
import { decodeJwt } from 'jose'
import { describe, it } from 'node:test'
import { createIntrospectionClient, introspect } from '../helpers/token-lifecycle.ts'
import {
  logInWithCookie,
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  type TestServer,
} from '../helpers/test-server.ts'

function sameOrigin(server: TestServer): Record<string, string> {
  return { origin: new URL(server.config.tokens.issuer).origin }
}

async function signedInWithCookie(server: TestServer) {
  const { username, id } = await registerUser(server)
  return { username, id, ...(await logInWithCookie(server, username)) }
}

function askForToken(server: TestServer, cookie: string, headers: Record<string, string> = sameOrigin(server)) {
  return server.request('/v1/auth/token', { method: 'POST', cookie, headers })
}

describe('access token from a cookie session', () => {
  it('issues an access token naming the cookie session, without a refresh token, and not cacheable', async (t) => {
    const server = await startTestServer(t)
    const user = await signedInWithCookie(server)
    const response = await askForToken(server, user.cookie)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.deepEqual(Object.keys(response.json).sort(), ['access_token', 'expires_in', 'session_id', 'token_type'])
    assert.equal(response.json.token_type, 'Bearer')
    assert.equal(response.json.expires_in, server.config.tokens.accessTokenTtlSeconds)
    assert.equal(response.json.session_id, user.body.session_id)
    const claims = decodeJwt(response.json.access_token)
    assert.equal(claims.sid, user.body.session_id)
    assert.equal(claims.sub, user.id)
    const me = await server.request('/v1/me', { bearer: response.json.access_token })
    assert.equal(me.status, 200)
    assert.equal(me.json.session_id, user.body.session_id)
    // The cookie session is still one session: no new one appeared.
    const sessions = await server.request('/v1/sessions', { bearer: response.json.access_token })
    assert.equal(sessions.json.sessions.length, 1)
    assert.equal(sessions.json.sessions[0].transport, 'cookie')
  })

  it('applies the cookie CSRF rules: other origins are refused, a client without Origin needs the CSRF token', async (t) => {
    const server = await startTestServer(t, { TESSERA_ALLOWED_ORIGINS: 'https://app.example' })
    const user = await signedInWithCookie(server)
    const refused: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      {},
      { 'x-csrf-token': 'not-the-token' },
    ]
    for (const headers of refused) {
      const response = await askForToken(server, user.cookie, headers)
      assert.equal(response.status, 403, JSON.stringify(headers))
      assert.equal(response.json.code, 'csrf_rejected')
      assert.equal(response.text.includes('eyJ'), false)
    }
    assert.equal((await askForToken(server, user.cookie, { 'x-csrf-token': user.body.csrf_token })).status, 200)
    assert.equal((await askForToken(server, user.cookie, { origin: 'https://app.example' })).status, 200)
    assert.equal((await askForToken(server, user.cookie, { 'sec-fetch-site': 'same-origin' })).status, 200)
  })

  it('refuses bearer tokens, so an access token can never extend itself, and anonymous callers', async (t) => {
    const server = await startTestServer(t)
    const cookieUser = await signedInWithCookie(server)
    const fromCookie = (await askForToken(server, cookieUser.cookie)).json.access_token
    const { username } = await registerUser(server)
    const tokenSession = await logInWithToken(server, username)
    for (const bearer of [fromCookie, tokenSession.access_token]) {
      const response = await server.request('/v1/auth/token', { method: 'POST', bearer, headers: sameOrigin(server) })
      assert.equal(response.status, 400)
      assert.equal(response.json.code, 'cookie_session_required')
    }
    const anonymous = await server.request('/v1/auth/token', { method: 'POST', headers: sameOrigin(server) })
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.json.code, 'unauthenticated')
    const both = await server.request('/v1/auth/token', {
      method: 'POST',
      bearer: fromCookie,
      cookie: cookieUser.cookie,
      headers: sameOrigin(server),
    })
    assert.equal(both.json.code, 'ambiguous_credentials')
  })

  it('ends with the session: logout by cookie, by bearer, revocation by another session, and expiry', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)

    const byCookie = await signedInWithCookie(server)
    const first = (await askForToken(server, byCookie.cookie)).json.access_token
    assert.equal((await introspect(server, client, first)).json.active, true)
    assert.equal(
      (
        await server.request('/v1/auth/logout', {
          method: 'POST',
          cookie: byCookie.cookie,
          headers: sameOrigin(server),
        })
      ).status,
      204,
    )
    const afterLogout = await server.request('/v1/me', { bearer: first })
    assert.equal(afterLogout.status, 401)
    assert.equal(afterLogout.json.code, 'invalid_token')
    assert.deepEqual((await introspect(server, client, first)).json, { active: false })

    const byBearer = await signedInWithCookie(server)
    const second = (await askForToken(server, byBearer.cookie)).json.access_token
    assert.equal((await server.request('/v1/auth/logout', { method: 'POST', bearer: second })).status, 204)
    assert.equal((await server.request('/v1/me', { cookie: byBearer.cookie })).status, 401)

    const revoked = await signedInWithCookie(server)
    const third = (await askForToken(server, revoked.cookie)).json.access_token
    const elsewhere = await logInWithToken(server, revoked.username)
    const end = await server.request(`/v1/sessions/${revoked.body.session_id}`, {
      method: 'DELETE',
      bearer: elsewhere.access_token,
    })
    assert.equal(end.status, 204)
    assert.equal((await server.request('/v1/me', { bearer: third })).status, 401)
  })

  it('ends when the cookie session times out, even while the token itself has not expired', async (t) => {
    const server = await startTestServer(t, { TESSERA_SESSION_IDLE_TIMEOUT: '60s', TESSERA_ACCESS_TOKEN_TTL: '10m' })
    const user = await signedInWithCookie(server)
    const token = (await askForToken(server, user.cookie)).json.access_token
    server.clock.advanceSeconds(30)
    assert.equal((await server.request('/v1/me', { bearer: token })).status, 200)
    server.clock.advanceSeconds(61)
    assert.equal((await server.request('/v1/me', { bearer: token })).status, 401)
    assert.equal((await server.request('/v1/me', { cookie: user.cookie })).status, 401)
  })

  it('a password change through a token from a cookie session answers a token pair and ends the cookie', async (t) => {
    const server = await startTestServer(t)
    const user = await signedInWithCookie(server)
    const token = (await askForToken(server, user.cookie)).json.access_token
    const changed = await server.request('/v1/me/password', {
      bearer: token,
      body: { current_password: strongPassword, new_password: 'a different long passphrase 42' },
    })
    assert.equal(changed.status, 200)
    assert.equal(changed.headers.get('set-cookie'), null)
    assert.equal(typeof changed.json.refresh_token, 'string')
    assert.equal((await server.request('/v1/me', { bearer: changed.json.access_token })).status, 200)
    assert.equal((await server.request('/v1/me', { cookie: user.cookie })).status, 401)
    assert.equal((await server.request('/v1/me', { bearer: token })).status, 401)
  })

  it('records each issued token in the audit trail with the session handle and no secret', async (t) => {
    const server = await startTestServer(t)
    const user = await signedInWithCookie(server)
    const token = (await askForToken(server, user.cookie)).json.access_token
    const page = await server.application.auditTrail.queryEvents(
      { types: ['access_token_issued'] },
      { after: null, limit: 10 },
    )
    assert.equal(page.events.length, 1)
    const [event] = page.events
    assert.equal(event?.outcome, 'success')
    assert.equal(event?.sessionId, user.body.session_id)
    assert.equal(event?.subjectUserId, user.id)
    const stored = JSON.stringify(page.events)
    assert.equal(stored.includes(token), false)
    assert.equal(stored.includes(user.token), false)
  })

  it('serves 40 simultaneous requests of one session, and every token dies with a logout', async (t) => {
    const server = await startTestServer(t)
    const user = await signedInWithCookie(server)
    const answers = await Promise.all(Array.from({ length: 40 }, () => askForToken(server, user.cookie)))
    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]))
    const tokens = answers.map((answer) => answer.json.access_token as string)
    assert.equal(new Set(tokens).size, 40)
    const before = await Promise.all(tokens.map((bearer) => server.request('/v1/me', { bearer })))
    assert.deepEqual(new Set(before.map((answer) => answer.status)), new Set([200]))
    await server.request('/v1/auth/logout', { method: 'POST', cookie: user.cookie, headers: sameOrigin(server) })
    const after = await Promise.all(tokens.map((bearer) => server.request('/v1/me', { bearer })))
    assert.deepEqual(new Set(after.map((answer) => answer.status)), new Set([401]))
  })
})

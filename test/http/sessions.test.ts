import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { logInWithCookie, logInWithToken, registerUser, startTestServer } from '../helpers/test-server.ts'

const shortProfile = {
  TESSERA_SESSION_IDLE_TIMEOUT: '5s',
  TESSERA_SESSION_ABSOLUTE_TIMEOUT: '20s',
  TESSERA_SESSION_CACHE_TTL: '0s',
}

describe('sessions', () => {
  it("lists only the caller's sessions, marking the current one", async (t) => {
    const server = await startTestServer(t)
    const alice = await registerUser(server)
    const bob = await registerUser(server)
    const a1 = await logInWithToken(server, alice.username)
    const a2 = await logInWithCookie(server, alice.username)
    await logInWithToken(server, bob.username)
    const response = await server.request('/v1/sessions', {
      bearer: a1.access_token,
      headers: { 'user-agent': 'game-client/1.0' },
    })
    assert.equal(response.status, 200)
    const ids = response.json.sessions.map((session: { id: string }) => session.id).sort()
    assert.deepEqual(ids, [a1.session_id, a2.body.session_id].sort())
    const current = response.json.sessions.find((session: { current: boolean }) => session.current)
    assert.equal(current.id, a1.session_id)
    assert.equal(current.transport, 'token')
    assert.equal(current.ip, '127.0.0.1')
    for (const session of response.json.sessions) {
      assert.deepEqual(Object.keys(session).sort(), [
        'amr',
        'authenticated_at',
        'created_at',
        'current',
        'expires_at',
        'id',
        'ip',
        'last_seen_at',
        'transport',
        'user_agent',
      ])
    }
  })

  it('a listed session id is not a credential', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const cookie = await logInWithCookie(server, username)
    const id = cookie.body.session_id
    assert.equal((await server.request('/v1/me', { bearer: id })).status, 401)
    assert.equal((await server.request('/v1/me', { cookie: `__Host-session=${id}` })).status, 401)
  })

  it("ends one session by id, and answers 404 alike for another user's session and an unknown one", async (t) => {
    const server = await startTestServer(t)
    const alice = await registerUser(server)
    const bob = await registerUser(server)
    const a1 = await logInWithToken(server, alice.username)
    const a2 = await logInWithToken(server, alice.username)
    const b1 = await logInWithToken(server, bob.username)

    const foreign = await server.request(`/v1/sessions/${a2.session_id}`, { method: 'DELETE', bearer: b1.access_token })
    const unknown = await server.request('/v1/sessions/doesnotexist', { method: 'DELETE', bearer: b1.access_token })
    assert.equal(foreign.status, 404)
    assert.equal(unknown.status, 404)
    assert.equal(foreign.json.code, unknown.json.code)
    assert.equal((await server.request('/v1/me', { bearer: a2.access_token })).status, 200)

    const ended = await server.request(`/v1/sessions/${a2.session_id}`, { method: 'DELETE', bearer: a1.access_token })
    assert.equal(ended.status, 204)
    assert.equal((await server.request('/v1/me', { bearer: a2.access_token })).status, 401)
    assert.equal((await server.request('/v1/me', { bearer: a1.access_token })).status, 200)
  })

  it('ends all other sessions, or all of them, at once', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const a = await logInWithToken(server, username)
    const b = await logInWithToken(server, username)
    const c = await logInWithCookie(server, username)

    const others = await server.request('/v1/sessions?scope=others', { method: 'DELETE', bearer: a.access_token })
    assert.equal(others.status, 200)
    assert.equal(others.json.ended, 2)
    assert.equal((await server.request('/v1/me', { bearer: b.access_token })).status, 401)
    assert.equal((await server.request('/v1/me', { cookie: c.cookie })).status, 401)
    assert.equal((await server.request('/v1/auth/refresh', { body: { refresh_token: b.refresh_token } })).status, 400)
    assert.equal((await server.request('/v1/me', { bearer: a.access_token })).status, 200)

    const all = await server.request('/v1/sessions?scope=all', { method: 'DELETE', bearer: a.access_token })
    assert.equal(all.json.ended, 1)
    assert.equal((await server.request('/v1/me', { bearer: a.access_token })).status, 401)
  })

  it('logout takes effect on the very next request for the access token and the refresh token', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const tokens = await logInWithToken(server, username)
    assert.equal((await server.request('/v1/me', { bearer: tokens.access_token })).status, 200)
    const logout = await server.request('/v1/auth/logout', { method: 'POST', bearer: tokens.access_token })
    assert.equal(logout.status, 204)
    assert.equal(logout.headers.get('cache-control'), 'no-store')
    const after = await server.request('/v1/me', { bearer: tokens.access_token })
    assert.equal(after.status, 401)
    assert.equal(after.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
    const refresh = await server.request('/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } })
    assert.equal(refresh.status, 400)
    assert.equal(refresh.json.code, 'invalid_grant')
  })

  it('a session ends after the idle timeout, and activity slides it', async (t) => {
    const server = await startTestServer(t, shortProfile)
    const { username } = await registerUser(server)
    const tokens = await logInWithToken(server, username)
    const cookie = await logInWithCookie(server, username)
    server.clock.advanceSeconds(3)
    assert.equal((await server.request('/v1/me', { bearer: tokens.access_token })).status, 200)
    assert.equal((await server.request('/v1/me', { cookie: cookie.cookie })).status, 200)
    server.clock.advanceSeconds(3)
    assert.equal((await server.request('/v1/me', { bearer: tokens.access_token })).status, 200, 'slid by the last use')
    assert.equal((await server.request('/v1/me', { cookie: cookie.cookie })).status, 200)
    server.clock.advanceSeconds(6)
    assert.equal((await server.request('/v1/me', { bearer: tokens.access_token })).status, 401)
    assert.equal((await server.request('/v1/me', { cookie: cookie.cookie })).status, 401)
    const refresh = await server.request('/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } })
    assert.equal(refresh.status, 400)
  })

  it('a session ends at the absolute timeout whatever its activity and refreshes', async (t) => {
    const server = await startTestServer(t, {
      ...shortProfile,
      TESSERA_ACCESS_TOKEN_TTL: '3s',
      TESSERA_CLOCK_LEEWAY: '1s',
    })
    const { username } = await registerUser(server)
    let tokens = await logInWithToken(server, username)
    for (let elapsed = 0; elapsed < 18; elapsed += 2) {
      server.clock.advanceSeconds(2)
      const refreshed = await server.request('/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } })
      assert.equal(refreshed.status, 200, `refresh at ${elapsed + 2}s`)
      tokens = refreshed.json
      assert.equal((await server.request('/v1/me', { bearer: tokens.access_token })).status, 200)
    }
    server.clock.advanceSeconds(3)
    assert.equal((await server.request('/v1/me', { bearer: tokens.access_token })).status, 401)
    const refresh = await server.request('/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } })
    assert.equal(refresh.status, 400)
  })
})

describe('refresh', () => {
  it('returns a new token pair and retires the presented refresh token', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const first = await logInWithToken(server, username)
    assert.match(first.refresh_token, /^[A-Za-z0-9_-]{43,}$/)
    const response = await server.request('/v1/auth/refresh', { body: { refresh_token: first.refresh_token } })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.equal(response.json.token_type, 'Bearer')
    assert.equal(response.json.session_id, first.session_id)
    assert.notEqual(response.json.refresh_token, first.refresh_token)
    assert.notEqual(response.json.access_token, first.access_token)
    assert.equal((await server.request('/v1/me', { bearer: response.json.access_token })).status, 200)
  })

  it('reuse of a replaced refresh token ends the session, and other sessions live on', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const first = await logInWithToken(server, username)
    const other = await logInWithToken(server, username)
    const second = (await server.request('/v1/auth/refresh', { body: { refresh_token: first.refresh_token } })).json
    // Past the grace window (TESSERA_REFRESH_GRACE) a replay is reuse, not a retry.
    server.clock.advanceSeconds(server.config.tokens.refreshGraceSeconds)
    const reuse = await server.request('/v1/auth/refresh', { body: { refresh_token: first.refresh_token } })
    assert.equal(reuse.status, 400)
    assert.equal(reuse.json.code, 'invalid_grant')
    assert.equal(
      (await server.request('/v1/auth/refresh', { body: { refresh_token: second.refresh_token } })).status,
      400,
    )
    assert.equal((await server.request('/v1/me', { bearer: second.access_token })).status, 401)
    assert.equal((await server.request('/v1/me', { bearer: other.access_token })).status, 200)
  })

  it('answers unknown, reused and revoked refresh tokens with one identical problem', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const tokens = await logInWithToken(server, username)
    const unknown = await server.request('/v1/auth/refresh', { body: { refresh_token: 'A'.repeat(43) } })
    const asAccess = await server.request('/v1/auth/refresh', { body: { refresh_token: tokens.access_token } })
    await server.request('/v1/auth/logout', { method: 'POST', bearer: tokens.access_token })
    const revoked = await server.request('/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } })
    for (const response of [unknown, asAccess, revoked]) {
      assert.equal(response.status, 400)
      assert.equal(response.json.code, 'invalid_grant')
      assert.equal(response.json.detail, unknown.json.detail)
    }
  })

  it('is not reachable with GET', async (t) => {
    const server = await startTestServer(t)
    const response = await server.request('/v1/auth/refresh?refresh_token=abc')
    assert.equal(response.status, 405)
  })
})

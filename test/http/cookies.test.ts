import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  logInWithCookie,
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
} from '../helpers/test-server.ts'

describe('cookie transport', () => {
  it('sets a __Host- cookie with every protective attribute and puts no token in the body', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const login = await logInWithCookie(server, username)
    const attributes = login.setCookie.split(';').map((part) => part.trim().toLowerCase())
    assert.ok(login.setCookie.startsWith('__Host-session='))
    for (const expected of ['httponly', 'secure', 'samesite=lax', 'path=/'])
      assert.ok(attributes.includes(expected), expected)
    assert.ok(!attributes.some((attribute) => attribute.startsWith('domain')))
    const maxAge = Number(attributes.find((attribute) => attribute.startsWith('max-age='))?.slice(8))
    assert.ok(maxAge > 0 && maxAge <= server.config.sessions.absoluteTimeoutSeconds)
    assert.equal(login.body.access_token, undefined)
    assert.equal(login.body.refresh_token, undefined)
    assert.ok(!JSON.stringify(login.body).includes(login.token))
    assert.equal(Buffer.from(login.token, 'base64url').length, 32)
  })

  it('two logins give two different session tokens, and an attacker-chosen cookie is never adopted', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const planted = `__Host-session=${'A'.repeat(43)}`
    const response = await server.request('/v1/auth/login', {
      body: { username, password: strongPassword, mode: 'cookie' },
      cookie: planted,
    })
    assert.equal(response.status, 200)
    assert.ok(!(response.headers.get('set-cookie') ?? '').includes('A'.repeat(43)))
    assert.equal((await server.request('/v1/me', { cookie: planted })).status, 401)
    const second = await logInWithCookie(server, username)
    const third = await logInWithCookie(server, username)
    assert.notEqual(second.token, third.token)
  })

  it('refuses cookie-authenticated unsafe requests from other sites, and the session survives', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const { cookie } = await logInWithCookie(server, username)
    const port = new URL(server.url).port
    const hostile: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: `http://127.0.0.1:${port}.evil.example` },
      { 'sec-fetch-site': 'same-site' },
      {},
      { 'x-csrf-token': 'not-the-token' },
    ]
    for (const headers of hostile) {
      const response = await server.request('/v1/auth/logout', { method: 'POST', cookie, headers })
      assert.equal(response.status, 403, JSON.stringify(headers))
      assert.equal(response.json.code, 'csrf_rejected')
    }
    assert.equal((await server.request('/v1/me', { cookie })).status, 200)
  })

  it("accepts same-origin requests, and legacy clients with the session's CSRF token only", async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const first = await logInWithCookie(server, username)
    const second = await logInWithCookie(server, username)
    const withOtherToken = await server.request('/v1/auth/logout', {
      method: 'POST',
      cookie: first.cookie,
      headers: { 'x-csrf-token': second.body.csrf_token },
    })
    assert.equal(withOtherToken.status, 403)
    const withOwnToken = await server.request('/v1/auth/logout', {
      method: 'POST',
      cookie: first.cookie,
      headers: { 'x-csrf-token': first.body.csrf_token },
    })
    assert.equal(withOwnToken.status, 204)
    const sameOrigin = await server.request('/v1/auth/logout', {
      method: 'POST',
      cookie: second.cookie,
      headers: { origin: new URL(server.config.tokens.issuer).origin, 'sec-fetch-site': 'same-origin' },
    })
    assert.equal(sameOrigin.status, 204)
    assert.match(sameOrigin.headers.get('set-cookie') ?? '', /^__Host-session=;.*Max-Age=0/)
    assert.equal((await server.request('/v1/me', { cookie: second.cookie })).status, 401)
  })

  it('refuses a cross-site cookie login without setting a cookie', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const response = await server.request('/v1/auth/login', {
      body: { username, password: strongPassword, mode: 'cookie' },
      headers: { 'sec-fetch-site': 'cross-site' },
    })
    assert.equal(response.status, 403)
    assert.equal(response.headers.get('set-cookie'), null)
  })

  it('refuses ambiguous credentials: a cookie with a bearer token, or the cookie twice', async (t) => {
    const server = await startTestServer(t)
    const alice = await registerUser(server)
    const bob = await registerUser(server)
    const aliceCookie = await logInWithCookie(server, alice.username)
    const bobTokens = await logInWithToken(server, bob.username)
    const both = await server.request('/v1/me', { cookie: aliceCookie.cookie, bearer: bobTokens.access_token })
    assert.equal(both.status, 400)
    assert.equal(both.json.code, 'ambiguous_credentials')
    const twice = await server.request('/v1/me', { cookie: `${aliceCookie.cookie}; __Host-session=${'B'.repeat(43)}` })
    assert.equal(twice.status, 400)
  })

  it('a password change through the cookie gives a new cookie and ends the old one', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const login = await logInWithCookie(server, username)
    const response = await server.request('/v1/me/password', {
      cookie: login.cookie,
      headers: { 'sec-fetch-site': 'same-origin' },
      body: { current_password: strongPassword, new_password: 'another long passphrase 77' },
    })
    assert.equal(response.status, 200)
    const token = /__Host-session=([^;]*)/.exec(response.headers.get('set-cookie') ?? '')?.[1]
    assert.ok(token && token !== login.token)
    assert.equal(response.json.access_token, undefined)
    assert.equal((await server.request('/v1/me', { cookie: login.cookie })).status, 401)
    assert.equal((await server.request('/v1/me', { cookie: `__Host-session=${token}` })).status, 200)
  })

  it('refuses simple content types on cookie-authenticated requests, changing nothing', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const { cookie } = await logInWithCookie(server, username)
    const body = JSON.stringify({ current_password: strongPassword, new_password: 'another long passphrase 77' })
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const response = await server.request('/v1/me/password', {
        cookie,
        headers: { 'content-type': contentType, 'sec-fetch-site': 'same-origin' },
        rawBody: body,
      })
      assert.equal(response.status, 415, contentType)
    }
    assert.equal((await server.request('/v1/me', { cookie })).status, 200)
  })
})

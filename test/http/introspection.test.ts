/**
 * RFC 7662 introspection over real HTTP (SECURITY.md RT-07, AZ-01): only service clients may
 * ask, live state decides, and an inactive token gets `{"active":false}` and nothing else.
 */
import assert from 'node:assert/strict'
import { generateKeyPair, SignJWT, decodeJwt } from 'jose'
import { describe, it } from 'node:test'
import {
  basicAuthorization,
  createIntrospectionClient,
  introspect,
  postForm,
  refresh,
  signInAsAdmin,
} from '../helpers/token-lifecycle.ts'
import {
  logInWithCookie,
  logInWithToken,
  registerUser,
  startTestServer,
  type TestServer,
} from '../helpers/test-server.ts'

async function signedIn(server: TestServer) {
  const { username, id } = await registerUser(server)
  return { username, id, ...(await logInWithToken(server, username)) }
}

describe('introspection', () => {
  it('refuses callers without valid service-client credentials with 401 invalid_client and a Basic challenge', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    const admin = await signInAsAdmin(server)
    const attempts: Array<[string, Record<string, string>]> = [
      ['no credentials', {}],
      ['a wrong secret', { authorization: basicAuthorization(client.clientId, `${client.clientSecret}x`) }],
      ['an unknown client', { authorization: basicAuthorization('unknown-client', client.clientSecret) }],
      ['the client name as id', { authorization: basicAuthorization('game-server', client.clientSecret) }],
      ['a user access token', { authorization: `Bearer ${user.access_token}` }],
      ['an admin access token', { authorization: `Bearer ${admin.access_token}` }],
      ['malformed Basic', { authorization: 'Basic !!!' }],
      ['Basic without a colon', { authorization: `Basic ${Buffer.from(client.clientId).toString('base64')}` }],
      ['Basic with an empty secret', { authorization: basicAuthorization(client.clientId, '') }],
    ]
    for (const [name, headers] of attempts) {
      const response = await postForm(server, '/v1/oauth/introspect', { token: user.access_token }, headers)
      assert.equal(response.status, 401, name)
      assert.equal(response.json.code, 'invalid_client', name)
      assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, name)
      assert.equal(response.headers.get('www-authenticate'), 'Basic realm="tessera", charset="UTF-8"', name)
      assert.equal(response.text.includes(user.access_token), false, name)
    }
    assert.equal((await introspect(server, client, user.access_token)).json.active, true)
  })

  it('describes a live access token with its claims, current roles, client and no-store', async (t) => {
    const server = await startTestServer(t, { TESSERA_CLIENT_ID: 'arena-web' })
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    const response = await introspect(server, client, user.access_token)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    const claims = decodeJwt(user.access_token)
    assert.deepEqual(response.json, {
      active: true,
      token_type: 'access_token',
      sub: user.id,
      username: user.username,
      sid: user.session_id,
      roles: ['user'],
      client_id: 'arena-web',
      iat: claims.iat,
      exp: claims.exp,
      jti: claims.jti,
      iss: server.config.tokens.issuer,
      aud: server.config.tokens.audience,
    })
  })

  it("describes a guest's tokens without a username member, since a guest has none (RFC 7662 makes it optional)", async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const guest = await server.request('/v1/auth/device', { body: { device_id: `device-${crypto.randomUUID()}` } })
    assert.equal(guest.status, 200, guest.text)
    for (const token of [guest.json.access_token, guest.json.refresh_token]) {
      const response = await introspect(server, client, token)
      assert.equal(response.json.active, true)
      assert.deepEqual(response.json.roles, ['guest'])
      assert.equal('username' in response.json, false, JSON.stringify(response.json))
    }
  })

  it('describes the current refresh token of a live family, and not a replaced one', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    const current = await introspect(server, client, user.refresh_token)
    assert.equal(current.json.active, true)
    assert.equal(current.json.token_type, 'refresh_token')
    assert.equal(current.json.sid, user.session_id)
    assert.equal(current.json.client_id, 'tessera')
    assert.equal(current.json.jti, undefined)
    const rotated = await refresh(server, user.refresh_token)
    assert.deepEqual((await introspect(server, client, user.refresh_token)).json, { active: false })
    assert.equal((await introspect(server, client, rotated.json.refresh_token)).json.active, true)
  })

  it('answers exactly {"active":false} for garbage, expired, ended, foreign and forged tokens', async (t) => {
    const server = await startTestServer(t, { TESSERA_ACCESS_TOKEN_TTL: '60s', TESSERA_CLOCK_LEEWAY: '5s' })
    const client = await createIntrospectionClient(server)
    const expired = await signedIn(server)
    const loggedOut = await signedIn(server)
    await server.request('/v1/auth/logout', { method: 'POST', bearer: loggedOut.access_token })
    const claims = decodeJwt(expired.access_token)
    const foreignKey = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const foreignIssuer = await new SignJWT({ ...claims, iss: 'https://evil.example' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'evil' })
      .sign(foreignKey.privateKey)
    const cookie = await logInWithCookie(server, expired.username)
    server.clock.advanceSeconds(66)
    const tokens: Array<[string, string]> = [
      ['garbage', 'not-a-token'],
      ['a JWT-shaped garbage', 'a.b.c'],
      ['an expired access token', expired.access_token],
      ['a logged-out access token', loggedOut.access_token],
      ['a logged-out refresh token', loggedOut.refresh_token],
      ['a foreign token', foreignIssuer],
      ['a cookie session token', cookie.token],
      ['a session id', expired.session_id],
    ]
    for (const [name, token] of tokens) {
      for (const hint of [undefined, 'access_token', 'refresh_token']) {
        const response = await introspect(server, client, token, hint)
        assert.equal(response.status, 200, name)
        assert.equal(response.text, '{"active":false}', `${name} (hint ${hint})`)
      }
    }
  })

  it('turns a token inactive the moment its session is revoked elsewhere', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    const other = await logInWithToken(server, user.username)
    assert.equal((await introspect(server, client, user.access_token)).json.active, true)
    await server.request('/v1/sessions?scope=others', { method: 'DELETE', bearer: other.access_token })
    assert.deepEqual((await introspect(server, client, user.access_token)).json, { active: false })
    assert.equal((await introspect(server, client, other.access_token)).json.active, true)
  })

  it('shows the roles after a change at once, not the ones frozen in the token (AZ-01)', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const admin = await signInAsAdmin(server)
    // Another admin stays: the last one cannot be demoted.
    await signInAsAdmin(server)
    assert.deepEqual((await introspect(server, client, admin.access_token)).json.roles, ['admin', 'user'])
    await server.application.accountAdmin.replaceUserRoles(admin.id, ['user'], {
      actorUserId: null,
      context: { ip: null, userAgent: 'test', requestId: null },
    })
    assert.deepEqual(decodeJwt(admin.access_token).roles, ['admin', 'user'])
    assert.deepEqual((await introspect(server, client, admin.access_token)).json.roles, ['user'])
  })

  it('treats the hint as advice: a wrong or unknown hint still finds the token', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    assert.equal((await introspect(server, client, user.access_token, 'refresh_token')).json.token_type, 'access_token')
    assert.equal(
      (await introspect(server, client, user.refresh_token, 'access_token')).json.token_type,
      'refresh_token',
    )
    assert.equal((await introspect(server, client, user.refresh_token, 'id_token')).json.token_type, 'refresh_token')
  })

  it('takes forms only, strictly parsed', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    const send = (rawBody: string | Uint8Array, contentType: string) =>
      server.request('/v1/oauth/introspect', {
        method: 'POST',
        rawBody,
        headers: { 'content-type': contentType, authorization: client.authorization },
      })
    const form = 'application/x-www-form-urlencoded'
    const cases: Array<[string, string | Uint8Array, string, number]> = [
      ['JSON', JSON.stringify({ token: user.access_token }), 'application/json', 415],
      ['text/plain', `token=${user.access_token}`, 'text/plain', 415],
      ['a form in UTF-16', `token=${user.access_token}`, `${form}; charset=utf-16`, 415],
      ['token twice', `token=${user.access_token}&token=garbage`, form, 400],
      ['a bad percent-escape', `token=${user.access_token}%zz`, form, 400],
      ['percent-encoded invalid UTF-8', 'token=%ff%fe', form, 400],
      ['raw non-ASCII bytes', new Uint8Array([...Buffer.from('token='), 0xc3, 0xa9]), form, 400],
      ['no token', 'token_type_hint=access_token', form, 400],
      ['an empty body', '', form, 400],
      ['an empty parameter name', `=x&token=${user.access_token}`, form, 400],
      ['a 17 KiB body', `token=${'a'.repeat(17 * 1024)}`, form, 413],
    ]
    for (const [name, body, contentType, status] of cases) {
      const response = await send(body, contentType)
      assert.equal(response.status, status, name)
      assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, name)
    }
    const accepted = await send(
      `token=${encodeURIComponent(user.access_token)}&unknown_parameter=ignored`,
      `${form}; charset=UTF-8`,
    )
    assert.equal(accepted.json.active, true)
  })

  it('leaves the rest of the API JSON-only', async (t) => {
    const server = await startTestServer(t)
    const user = await signedIn(server)
    const response = await postForm(server, '/v1/auth/refresh', { refresh_token: user.refresh_token })
    assert.equal(response.status, 415)
    assert.equal((await refresh(server, user.refresh_token)).status, 200)
  })
})

describe('introspection and revocation limits', () => {
  it('slows down token scanning: 500 random tokens sent to introspection meet 429 before the end', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    const statuses: number[] = []
    for (let index = 0; index < 500; index += 1) {
      const response = await introspect(server, client, `random-token-${index}-${Math.random()}`)
      statuses.push(response.status)
      if (response.status === 429) break
    }
    assert.equal(statuses.at(-1), 429)
    assert.ok(statuses.length > 100 && statuses.length < 500, `${statuses.length} attempts`)
    assert.ok(statuses.slice(0, -1).every((status) => status === 200))
    // Live tokens answered active never count: a resource server checking real tokens is not slowed.
    const other = await startTestServer(t)
    const otherClient = await createIntrospectionClient(other)
    const live = await signedIn(other)
    for (let index = 0; index < 150; index += 1) {
      assert.equal((await introspect(other, otherClient, live.access_token)).json.active, true)
    }
    assert.ok(user.access_token)
  })

  it('limits revocation requests per address, which always answer 200 otherwise', async (t) => {
    const server = await startTestServer(t)
    const statuses: number[] = []
    for (let index = 0; index < 80; index += 1) {
      statuses.push((await postForm(server, '/v1/oauth/revoke', { token: `garbage-${index}` })).status)
    }
    assert.ok(statuses.slice(0, 60).every((status) => status === 200))
    assert.ok(statuses.includes(429))
  })
})

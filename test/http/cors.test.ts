import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { preflightMaxAgeSeconds } from '../../src/http/plugins/cors.ts'
import { logInWithToken, registerUser, startTestServer, type TestResponse } from '../helpers/test-server.ts'

const appOrigin = 'https://app.example'

function corsHeaderNames(response: TestResponse): string[] {
  return [...response.headers.keys()].filter((name) => name.startsWith('access-control-'))
}

function preflight(method: string, headers: Record<string, string> = {}) {
  return {
    method: 'OPTIONS',
    headers: { origin: appOrigin, 'access-control-request-method': method, ...headers },
  }
}

describe('CORS', () => {
  it('opens nothing by default: no Access-Control-* header, and OPTIONS answers 404 as for any unknown method', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const { access_token } = await logInWithToken(server, username)
    const answers = [
      await server.request('/v1/auth/login', preflight('POST', { 'access-control-request-headers': 'content-type' })),
      await server.request('/v1/me', { bearer: access_token, headers: { origin: appOrigin } }),
      await server.request('/v1/me', { headers: { origin: appOrigin } }),
      await server.request('/.well-known/jwks.json', { headers: { origin: appOrigin } }),
    ]
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [404, 200, 401, 200],
    )
    for (const answer of answers) assert.deepEqual(corsHeaderNames(answer), [])
    assert.equal(answers[0]?.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    assert.equal(answers[0]?.json.code, 'not_found')
  })

  it('answers a preflight from a listed origin with the methods of that path only', async (t) => {
    const server = await startTestServer(t, { TESSERA_ALLOWED_ORIGINS: appOrigin })
    const login = await server.request(
      '/v1/auth/login',
      preflight('POST', { 'access-control-request-headers': 'content-type' }),
    )
    assert.equal(login.status, 204)
    assert.equal(login.text, '')
    assert.equal(login.headers.get('access-control-allow-origin'), appOrigin)
    assert.equal(login.headers.get('access-control-allow-credentials'), 'true')
    assert.equal(login.headers.get('access-control-allow-methods'), 'POST')
    assert.equal(
      login.headers.get('access-control-allow-headers'),
      'authorization, content-type, x-csrf-token, if-match',
    )
    assert.equal(login.headers.get('access-control-max-age'), String(preflightMaxAgeSeconds))
    assert.match(login.headers.get('vary') ?? '', /\bOrigin\b/)
    // The security headers go on preflight answers too.
    assert.equal(login.headers.get('x-content-type-options'), 'nosniff')

    const sessions = await server.request('/v1/sessions', preflight('DELETE'))
    assert.equal(sessions.headers.get('access-control-allow-methods'), 'DELETE, GET, HEAD')
    const oneSession = await server.request('/v1/sessions/abc', preflight('DELETE'))
    assert.equal(oneSession.status, 204)
    assert.equal(oneSession.headers.get('access-control-allow-methods'), 'DELETE')
    const me = await server.request('/v1/me', preflight('GET', { 'access-control-request-headers': 'authorization' }))
    // DELETE /v1/me deletes the account (after the password and a recent authentication).
    assert.equal(me.headers.get('access-control-allow-methods'), 'DELETE, GET, HEAD')
  })

  it('refuses preflights of unlisted origins, of unknown paths, and OPTIONS that are no preflight, as before', async (t) => {
    const server = await startTestServer(t, { TESSERA_ALLOWED_ORIGINS: appOrigin })
    const refused = [
      await server.request('/v1/auth/login', preflight('POST', { origin: 'https://evil.example' })),
      await server.request('/v1/auth/login', preflight('POST', { origin: 'null' })),
      await server.request('/v1/auth/login', preflight('POST', { origin: `${appOrigin}:8443` })),
      await server.request('/v1/auth/login', preflight('POST', { origin: 'https://app.example.evil.example' })),
      await server.request('/v1/auth/login', preflight('POST', { origin: 'HTTPS://APP.EXAMPLE' })),
      await server.request('/v1/auth/login', {
        method: 'OPTIONS',
        headers: { 'access-control-request-method': 'POST' },
      }),
      await server.request('/v1/nothing-here', preflight('GET')),
      await server.request('/v1/auth/login', { method: 'OPTIONS', headers: { origin: appOrigin } }),
      await server.request('/v1/auth/login', { method: 'OPTIONS' }),
    ]
    for (const [index, answer] of refused.entries()) {
      assert.equal(answer.status, 404, `case ${index}`)
      assert.equal(answer.json.code, 'not_found', `case ${index}`)
      assert.deepEqual(corsHeaderNames(answer), [], `case ${index}`)
    }
  })

  it('lets a listed origin read answers, errors included, with the headers a client needs exposed', async (t) => {
    const server = await startTestServer(t, { TESSERA_ALLOWED_ORIGINS: `${appOrigin}, https://game.example` })
    const { username } = await registerUser(server)
    const { access_token } = await logInWithToken(server, username)
    const ok = await server.request('/v1/me', { bearer: access_token, headers: { origin: 'https://game.example' } })
    assert.equal(ok.status, 200)
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://game.example')
    assert.equal(ok.headers.get('access-control-allow-credentials'), 'true')
    assert.match(ok.headers.get('vary') ?? '', /\bOrigin\b/)

    const unauthenticated = await server.request('/v1/me', { headers: { origin: appOrigin } })
    assert.equal(unauthenticated.status, 401)
    assert.equal(unauthenticated.headers.get('access-control-allow-origin'), appOrigin)
    const exposed = (unauthenticated.headers.get('access-control-expose-headers') ?? '').split(', ')
    for (const name of ['retry-after', 'www-authenticate', 'etag']) assert.ok(exposed.includes(name), name)
    // A preflight's own headers are no business of an actual request.
    assert.equal(unauthenticated.headers.get('access-control-allow-methods'), null)

    const notAllowed = await server.request('/v1/auth/login', {
      method: 'PUT',
      body: {},
      headers: { origin: appOrigin },
    })
    assert.equal(notAllowed.status, 405)
    assert.equal(notAllowed.headers.get('allow'), 'POST')
    assert.equal(notAllowed.headers.get('access-control-allow-origin'), appOrigin)
  })

  it('puts the CORS headers on throttled answers, so a page can read Retry-After', async (t) => {
    const server = await startTestServer(t, {
      TESSERA_ALLOWED_ORIGINS: appOrigin,
      TESSERA_THROTTLE_REGISTER_THRESHOLD: '1',
    })
    let last: TestResponse | null = null
    for (let attempt = 0; attempt < 3; attempt += 1) {
      last = await server.request('/v1/auth/register', {
        body: { username: `cors${attempt}_${Date.now()}`, password: 'correct horse battery staple' },
        headers: { origin: appOrigin },
      })
    }
    assert.equal(last?.status, 429)
    assert.equal(last?.headers.get('access-control-allow-origin'), appOrigin)
    assert.ok(Number(last?.headers.get('retry-after')) >= 1)
  })
})

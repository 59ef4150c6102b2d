import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { registerUser, startTestServer, strongPassword, uniqueUsername } from '../helpers/test-server.ts'

const leakPattern = /at .*\.(ts|js):\d+|node_modules|SQLITE_|ECONNREFUSED|"stack"|TypeError|jose|FST_/

describe('errors and response hygiene', () => {
  it('answers bad input with a 4xx problem+json, never a 500', async (t) => {
    const server = await startTestServer(t)
    const json = { 'content-type': 'application/json' }
    const cases: Array<[string, { rawBody?: string | Uint8Array; headers?: Record<string, string> }, number]> = [
      ['truncated JSON', { rawBody: '{"username":"a', headers: json }, 400],
      ['trailing comma', { rawBody: '{"username":"abc","password":"x",}', headers: json }, 400],
      ['NaN', { rawBody: '{"username":NaN}', headers: json }, 400],
      ['a BOM', { rawBody: '\ufeff{"username":"abc","password":"x"}', headers: json }, 400],
      ['an array', { rawBody: '[]', headers: json }, 400],
      ['null', { rawBody: 'null', headers: json }, 400],
      ['deep nesting', { rawBody: '['.repeat(8000) + ']'.repeat(8000), headers: json }, 400],
      ['operators instead of strings', { rawBody: '{"username":["x"],"password":{"$gt":""}}', headers: json }, 400],
      [
        'numbers instead of strings',
        { rawBody: '{"username":12345,"password":123456789012345678}', headers: json },
        400,
      ],
      ['invalid UTF-8', { rawBody: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), headers: json }, 400],
      ['empty body', { rawBody: '', headers: json }, 400],
      ['text/plain', { rawBody: '{}', headers: { 'content-type': 'text/plain' } }, 415],
      [
        'a form',
        { rawBody: 'username=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        415,
      ],
      ['UTF-16 JSON', { rawBody: '{}', headers: { 'content-type': 'application/json; charset=utf-16' } }, 415],
      ['no content type', { rawBody: '{}', headers: {} }, 415],
      [
        '17 KiB on an auth route',
        { rawBody: JSON.stringify({ username: 'a', password: 'x'.repeat(17 * 1024) }), headers: json },
        413,
      ],
    ]
    for (const [name, init, status] of cases) {
      const response = await server.request('/v1/auth/login', { method: 'POST', ...init })
      assert.equal(response.status, status, name)
      assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, name)
      assert.equal(response.json.status, status, name)
      assert.equal(typeof response.json.code, 'string', name)
      assert.doesNotMatch(response.text, leakPattern, name)
    }
    assert.equal((await server.request('/healthz')).status, 200)
  })

  it('names the invalid fields without echoing their values', async (t) => {
    const server = await startTestServer(t)
    const response = await server.request('/v1/auth/register', {
      body: { username: 'someone', secret: 'hunter2-value' },
    })
    assert.equal(response.status, 400)
    assert.equal(response.json.code, 'validation_failed')
    assert.ok(Array.isArray(response.json.errors))
    assert.doesNotMatch(response.text, /hunter2-value/)
  })

  it('answers unknown routes with 404 and known routes with a wrong method with 405 and Allow', async (t) => {
    const server = await startTestServer(t)
    const missing = await server.request('/v1/nothing-here')
    assert.equal(missing.status, 404)
    assert.equal(missing.json.code, 'not_found')
    const wrongMethod = await server.request('/v1/auth/logout')
    assert.equal(wrongMethod.status, 405)
    assert.equal(wrongMethod.json.code, 'method_not_allowed')
    assert.equal(wrongMethod.headers.get('allow'), 'POST')
    const patchMe = await server.request('/v1/me', { method: 'PATCH' })
    assert.equal(patchMe.status, 405)
    assert.equal(patchMe.headers.get('allow'), 'GET, HEAD, DELETE')
  })

  it('matches the 405 and 404 answers to paths as the router does: parameters, trailing slashes, queries and pages', async (t) => {
    const server = await startTestServer(t)
    const cases: Array<[string, string, number, string | null]> = [
      ['PUT', '/v1/sessions/3b2f0c6e-0000-4000-8000-000000000000', 405, 'DELETE'],
      ['PUT', '/v1/sessions/3b2f0c6e-0000-4000-8000-000000000000/', 405, 'DELETE'],
      ['PATCH', '/v1/me?fields=all', 405, 'GET, HEAD, DELETE'],
      ['DELETE', '/login', 405, 'GET, HEAD, POST'],
      ['PUT', '/v1/sessions/3b2f0c6e-0000-4000-8000-000000000000/more', 404, null],
      ['GET', '/v1/me/nothing', 404, null],
      ['HEAD', '/v1/auth/logout', 405, 'POST'],
      ['HEAD', '/v1/nothing-here', 404, null],
    ]
    for (const [method, path, status, allow] of cases) {
      const response = await server.request(path, { method })
      assert.equal(response.status, status, `${method} ${path}`)
      assert.equal(response.headers.get('allow'), allow, `${method} ${path}`)
    }
  })

  it('puts the security headers on every response, errors included', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const responses = [
      await server.request('/healthz'),
      await server.request('/v1/nothing-here'),
      await server.request('/v1/me'),
      await server.request('/v1/auth/login', { body: { username, password: strongPassword } }),
      await server.request('/v1/auth/login', { body: { username, password: 'wrong password again!' } }),
      await server.request('/v1/auth/register', { body: { username: uniqueUsername(), password: 'short' } }),
    ]
    for (const response of responses) {
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff')
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'; frame-ancestors 'none'/)
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer')
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.equal(response.headers.get('x-powered-by'), null)
      assert.match(response.headers.get('content-type') ?? '', /charset=utf-8/)
    }
  })

  it('serves health, readiness and an OpenAPI 3.1 document generated from the route schemas', async (t) => {
    const server = await startTestServer(t)
    assert.deepEqual((await server.request('/healthz')).json, { status: 'ok' })
    assert.deepEqual((await server.request('/readyz')).json, { status: 'ready' })
    const openapi = await server.request('/openapi.json')
    assert.equal(openapi.status, 200)
    assert.equal(openapi.json.openapi, '3.1.0')
    const paths = Object.keys(openapi.json.paths)
    for (const path of [
      '/v1/auth/register',
      '/v1/auth/login',
      '/v1/auth/refresh',
      '/v1/auth/logout',
      '/v1/me',
      '/v1/me/password',
      '/v1/sessions',
      '/v1/sessions/{id}',
      '/v1/admin/users',
      '/v1/admin/users/{id}/roles',
      '/.well-known/jwks.json',
      '/healthz',
      '/readyz',
    ]) {
      assert.ok(
        paths.some((candidate) => candidate.replace(/\/$/, '') === path),
        path,
      )
    }
    const login = openapi.json.paths['/v1/auth/login'].post
    assert.deepEqual(login.requestBody.content['application/json'].schema.required, ['username', 'password'])
    assert.ok(openapi.json.components.schemas.Problem)
  })

  it('answers 503 problem on readiness when the store is gone, while health stays 200', async (t) => {
    const server = await startTestServer(t)
    assert.equal((await server.request('/readyz')).status, 200)
    // A closed database stands in for an unreachable store.
    await server.stores.close()
    const readiness = await server.request('/readyz')
    assert.equal(readiness.status, 503)
    assert.equal(readiness.json.code, 'service_unavailable')
    assert.doesNotMatch(readiness.text, leakPattern)
    assert.equal((await server.request('/healthz')).status, 200)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  logInWithCookie,
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  uniqueUsername,
  type TestServer,
} from '../helpers/test-server.ts'

async function signedInAdmin(server: TestServer) {
  const username = uniqueUsername('admin')
  await server.application.accountAdmin.createUser(
    { username, password: strongPassword, roles: ['admin', 'user'] },
    { actorUserId: null, context: { ip: null, userAgent: 'test', requestId: null } },
  )
  return logInWithToken(server, username)
}

describe('admin API', () => {
  it('answers 401 to anonymous callers and 403 to users on every admin route in the OpenAPI document', async (t) => {
    const server = await startTestServer(t)
    const { username, id } = await registerUser(server)
    const user = await logInWithToken(server, username)
    const openapi = (await server.request('/openapi.json')).json
    const adminOperations = Object.entries(openapi.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith('/v1/admin'))
      .flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => [method.toUpperCase(), path.replace('{id}', id)] as const),
      )
    assert.ok(adminOperations.length >= 2)
    for (const [method, path] of adminOperations) {
      const body = method === 'PUT' ? { roles: ['admin'] } : undefined
      const anonymous = await server.request(path, { method, body })
      assert.equal(anonymous.status, 401, `${method} ${path}`)
      const forbidden = await server.request(path, { method, body, bearer: user.access_token })
      assert.equal(forbidden.status, 403, `${method} ${path}`)
      assert.equal(forbidden.json.code, 'forbidden')
    }
    assert.deepEqual((await server.request('/v1/me', { bearer: user.access_token })).json.user.roles, ['user'])
  })

  it('decides the role before the body: a user gets 403 whatever body, and a stranger 401, on every admin route', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const user = await logInWithToken(server, username)
    const openapi = (await server.request('/openapi.json')).json
    const adminOperations = Object.entries(openapi.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith('/v1/admin'))
      .flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => [method.toUpperCase(), path.replace('{id}', 'not-a-uuid')] as const),
      )
    assert.ok(adminOperations.length >= 8)
    const wrongBodies: Array<[string, string]> = [
      ['a body of the wrong shape', '{"unexpected":true,"roles":"admin"}'],
      ['malformed JSON', '{"roles": [admin'],
      ['an array', '[]'],
    ]
    for (const [method, path] of adminOperations) {
      for (const [name, rawBody] of wrongBodies) {
        // fetch sends no body with GET; those routes take none, and get the same checks.
        const withBody = method !== 'GET'
        const headers: Record<string, string> = withBody ? { 'content-type': 'application/json' } : {}
        const body = withBody ? { rawBody } : {}
        const forbidden = await server.request(`${path}?limit=-1`, {
          method,
          ...body,
          headers,
          bearer: user.access_token,
        })
        assert.equal(forbidden.status, 403, `${method} ${path} with ${name}: ${forbidden.text}`)
        assert.equal(forbidden.json.code, 'forbidden')
        const anonymous = await server.request(`${path}?limit=-1`, { method, ...body, headers })
        assert.equal(anonymous.status, 401, `${method} ${path} with ${name}`)
      }
    }
  })

  it('lists users page by page with a cursor', async (t) => {
    const server = await startTestServer(t)
    const admin = await signedInAdmin(server)
    for (let index = 0; index < 5; index += 1) await registerUser(server)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`
      const page = await server.request(`/v1/admin/users${query}`, { bearer: admin.access_token })
      assert.equal(page.status, 200)
      assert.ok(page.json.users.length <= 2)
      for (const user of page.json.users) {
        assert.equal(user.password_hash, undefined)
        seen.push(user.username)
      }
      cursor = page.json.next_cursor
    } while (cursor !== null)
    assert.equal(seen.length, 6)
    assert.equal(new Set(seen).size, 6)
    const invalid = await server.request('/v1/admin/users?limit=100000', { bearer: admin.access_token })
    assert.equal(invalid.status, 400)
  })

  it("replaces roles, and the change applies to the user's live sessions at once", async (t) => {
    const server = await startTestServer(t)
    const admin = await signedInAdmin(server)
    const { username, id } = await registerUser(server)
    const user = await logInWithToken(server, username)
    const cookie = await logInWithCookie(server, username)

    const promote = await server.request(`/v1/admin/users/${id}/roles`, {
      method: 'PUT',
      bearer: admin.access_token,
      body: { roles: ['admin', 'user'] },
    })
    assert.equal(promote.status, 200)
    assert.deepEqual(promote.json.roles, ['admin', 'user'])
    assert.equal((await server.request('/v1/admin/users', { bearer: user.access_token })).status, 200)
    assert.equal((await server.request('/v1/admin/users', { cookie: cookie.cookie })).status, 200)

    const demote = await server.request(`/v1/admin/users/${id}/roles`, {
      method: 'PUT',
      bearer: admin.access_token,
      body: { roles: ['user'] },
    })
    assert.equal(demote.status, 200)
    assert.equal((await server.request('/v1/admin/users', { bearer: user.access_token })).status, 403)
    assert.equal((await server.request('/v1/admin/users', { cookie: cookie.cookie })).status, 403)
    const refreshed = await server.request('/v1/auth/refresh', { body: { refresh_token: user.refresh_token } })
    assert.deepEqual(JSON.parse(Buffer.from(refreshed.json.access_token.split('.')[1], 'base64url').toString()).roles, [
      'user',
    ])
  })

  it('refuses invalid roles and unknown users', async (t) => {
    const server = await startTestServer(t)
    const admin = await signedInAdmin(server)
    const { id } = await registerUser(server)
    const invalid = await server.request(`/v1/admin/users/${id}/roles`, {
      method: 'PUT',
      bearer: admin.access_token,
      body: { roles: ['Not A Role!'] },
    })
    assert.equal(invalid.status, 400)
    assert.equal(invalid.json.code, 'validation_failed')
    const unknown = await server.request('/v1/admin/users/00000000-0000-4000-8000-000000000000/roles', {
      method: 'PUT',
      bearer: admin.access_token,
      body: { roles: ['user'] },
    })
    assert.equal(unknown.status, 404)
    // Neither an id nor a username: no such user.
    const notAnId = await server.request('/v1/admin/users/123/roles', {
      method: 'PUT',
      bearer: admin.access_token,
      body: { roles: ['user'] },
    })
    assert.equal(notAnId.status, 404)
    assert.equal(notAnId.json.code, 'not_found')
  })
})

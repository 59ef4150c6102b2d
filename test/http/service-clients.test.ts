/** The admin API for service clients: the secret is shown once, kept hashed, and deletable. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { basicAuthorization, postForm, signInAsAdmin } from '../helpers/token-lifecycle.ts'
import { startTestServer } from '../helpers/test-server.ts'

describe('service clients over the admin API', () => {
  it('creates a client whose secret is shown once and works for introspection until it is deleted', async (t) => {
    const server = await startTestServer(t)
    const admin = await signInAsAdmin(server)
    const created = await server.request('/v1/admin/clients', {
      body: { name: 'game-server' },
      bearer: admin.access_token,
    })
    assert.equal(created.status, 201)
    assert.equal(created.headers.get('cache-control'), 'no-store')
    assert.deepEqual(Object.keys(created.json).sort(), ['client_id', 'client_secret', 'created_at', 'name'])
    assert.equal(Buffer.from(created.json.client_secret, 'base64url').length, 32)
    const authorization = basicAuthorization(created.json.client_id, created.json.client_secret)
    const introspect = () => postForm(server, '/v1/oauth/introspect', { token: admin.access_token }, { authorization })
    assert.equal((await introspect()).json.active, true)

    const listed = await server.request('/v1/admin/clients', { bearer: admin.access_token })
    assert.deepEqual(listed.json.clients, [
      { client_id: created.json.client_id, name: 'game-server', created_at: created.json.created_at },
    ])
    assert.equal(listed.text.includes(created.json.client_secret), false)

    const deleted = await server.request(`/v1/admin/clients/${created.json.client_id}`, {
      method: 'DELETE',
      bearer: admin.access_token,
    })
    assert.equal(deleted.status, 204)
    assert.equal((await introspect()).status, 401)
    const again = await server.request(`/v1/admin/clients/${created.json.client_id}`, {
      method: 'DELETE',
      bearer: admin.access_token,
    })
    assert.equal(again.status, 404)
  })

  it('refuses a taken name with 409 and a bad name with 400', async (t) => {
    const server = await startTestServer(t)
    const admin = await signInAsAdmin(server)
    await server.request('/v1/admin/clients', { body: { name: 'game-server' }, bearer: admin.access_token })
    const taken = await server.request('/v1/admin/clients', {
      body: { name: 'game-server' },
      bearer: admin.access_token,
    })
    assert.equal(taken.status, 409)
    assert.equal(taken.json.code, 'client_name_taken')
    for (const body of [{ name: 'Game Server' }, { name: '' }, {}, { name: 'ok', secret: 'chosen' }]) {
      const response = await server.request('/v1/admin/clients', { body, bearer: admin.access_token })
      assert.equal(response.status, 400, JSON.stringify(body))
    }
    assert.equal((await server.request('/v1/admin/clients', { bearer: admin.access_token })).json.clients.length, 1)
  })
})

/**
 * Response serialisers are compiled when their route first answers (src/http/serialization.ts),
 * not at start, and then serialise exactly as the eager ones: shared schemas resolved, properties
 * the schema does not name left out.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'
import { createLazySerializerFactory } from '../../src/http/serialization.ts'

const userSchema = {
  $id: 'SerializedUser',
  type: 'object',
  properties: { id: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } } },
  required: ['id', 'roles'],
}

describe('response serialisers compiled on first use', () => {
  it('compiles none at start, then each route and status once, with the shared schemas', async () => {
    const compiledRoutes: string[] = []
    const eager = SerializerSelector()
    const counting: SerializerFactory = (external, options) => {
      const compile = eager(external, options)
      return (route) => {
        compiledRoutes.push(`${route.method} ${route.url} ${route.httpStatus}`)
        return compile(route)
      }
    }
    const app = Fastify({
      schemaController: { compilersFactory: { buildSerializer: createLazySerializerFactory(counting) } },
    })
    app.addSchema(userSchema)
    const user = { id: 'u1', roles: ['player'], passwordHash: 'never serialised' }
    app.get('/user', { schema: { response: { 200: { $ref: 'SerializedUser#' } } } }, async () => user)
    app.get(
      '/users',
      { schema: { response: { 200: { type: 'array', items: { $ref: 'SerializedUser#' } } } } },
      async () => [user],
    )
    await app.ready()
    assert.deepEqual(compiledRoutes, [])

    for (let round = 0; round < 3; round += 1) {
      const response = await app.inject('/user')
      assert.equal(response.statusCode, 200)
      assert.deepEqual(JSON.parse(response.body), { id: 'u1', roles: ['player'] })
    }
    assert.deepEqual(compiledRoutes, ['GET /user 200'])

    const list = await app.inject('/users')
    assert.deepEqual(JSON.parse(list.body), [{ id: 'u1', roles: ['player'] }])
    assert.deepEqual(compiledRoutes, ['GET /user 200', 'GET /users 200'])
    await app.close()
  })
})

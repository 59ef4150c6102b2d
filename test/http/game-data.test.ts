/**
 * Session data and player data over real HTTP, on SQLite, PostgreSQL, Redis and a Redis Cluster
 * of three masters (started from redis-server on free loopback ports): ETag and
 * If-Match (428 without, 412 when stale), JSON Merge Patch, the size limit (413), service-client
 * access, data that ends with its session, and simultaneous writers of one version of which
 * exactly one wins.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { Stores } from '../../src/core/stores.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'
import { skipUnlessPostgres, skipUnlessRedis, skipUnlessRedisServerProgram } from '../helpers/backends.ts'
import { openTestPostgresStores } from '../helpers/postgres.ts'
import { createTestRedisSettings, openTestRedisStores, useOwnRedisCluster } from '../helpers/redis.ts'
import {
  logInWithCookie,
  logInWithToken,
  registerUser,
  startTestServer,
  type TestResponse,
  type TestServer,
} from '../helpers/test-server.ts'
import { createIntrospectionClient } from '../helpers/token-lifecycle.ts'

interface Backend {
  name: string
  skip: string | false
  openStores(now: Date): Promise<Stores>
}

const clusterSkip = skipUnlessRedisServerProgram()
const ownCluster = useOwnRedisCluster(clusterSkip)

const backends: Backend[] = [
  { name: 'SQLite', skip: false, openStores: async (now) => openSqliteStores(':memory:', now) },
  { name: 'PostgreSQL', skip: await skipUnlessPostgres(), openStores: (now) => openTestPostgresStores({ now }) },
  {
    name: 'Redis',
    skip: await skipUnlessRedis(),
    openStores: (now) => openTestRedisStores(createTestRedisSettings(), now),
  },
  {
    // Each session's keys hash to its own slot: the data's scripts run where the session is.
    name: 'Redis Cluster',
    skip: clusterSkip,
    openStores: (now) => openTestRedisStores(ownCluster.settings(), now),
  },
]

const mergePatch = 'application/merge-patch+json'

async function startWithPlayer(t: TestContext, backend: Backend, env: Record<string, string> = {}) {
  const server = await startTestServer(t, env, { openStores: backend.openStores })
  const { username, id } = await registerUser(server)
  const tokens = await logInWithToken(server, username)
  return { server, username, userId: id, tokens, bearer: tokens.access_token }
}

function write(
  server: TestServer,
  path: string,
  method: 'PUT' | 'PATCH',
  body: unknown,
  headers: Record<string, string>,
  bearer?: string,
): Promise<TestResponse> {
  const contentType = method === 'PATCH' ? mergePatch : 'application/json'
  return server.request(path, {
    method,
    rawBody: JSON.stringify(body),
    headers: { 'content-type': contentType, ...headers },
    ...(bearer === undefined ? {} : { bearer }),
  })
}

function assertProblem(response: TestResponse, status: number, code: string, name = code) {
  assert.equal(response.status, status, `${name}: ${response.text}`)
  assert.equal(response.json.code, code, name)
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, name)
}

for (const backend of backends) {
  for (const place of [
    { what: 'session data', path: '/v1/sessions/current/data' },
    { what: 'player data', path: '/v1/me/data' },
  ]) {
    describe(`${place.what} of the signed-in holder (${backend.name})`, { skip: backend.skip }, () => {
      it('GET answers {} with ETag "0" until written; PUT with If-Match writes and answers the next ETag', async (t) => {
        const { server, bearer } = await startWithPlayer(t, backend)
        const empty = await server.request(place.path, { bearer })
        assert.equal(empty.status, 200)
        assert.deepEqual(empty.json, {})
        assert.equal(empty.headers.get('etag'), '"0"')
        assert.equal(empty.headers.get('cache-control'), 'no-store')

        const put = await write(server, place.path, 'PUT', { cart: ['sword'], gold: 10 }, { 'if-match': '"0"' }, bearer)
        assert.equal(put.status, 200, put.text)
        assert.deepEqual(put.json, { cart: ['sword'], gold: 10 })
        assert.equal(put.headers.get('etag'), '"1"')
        const read = await server.request(place.path, { bearer })
        assert.deepEqual(read.json, { cart: ['sword'], gold: 10 })
        assert.equal(read.headers.get('etag'), '"1"')
        // The stored text is answered as it is, as JSON, whatever its members.
        assert.equal(read.headers.get('content-type'), 'application/json; charset=utf-8')
        assert.equal(read.text, '{"cart":["sword"],"gold":10}')
        const odd = { 'a"b': '</script>\u2028', n: 1e21, nested: { list: [null, true, -0.5] } }
        const oddPut = await write(server, place.path, 'PUT', odd, { 'if-match': '"1"' }, bearer)
        assert.equal(oddPut.text, JSON.stringify(odd))
        const oddRead = await server.request(place.path, { bearer })
        assert.equal(oddRead.text, JSON.stringify(odd))
        assert.deepEqual(oddRead.json, odd)
      })

      it('PATCH applies a JSON Merge Patch: null removes a member, objects merge, arrays replace', async (t) => {
        const { server, bearer } = await startWithPlayer(t, backend)
        await write(server, place.path, 'PUT', { a: 1, b: { c: 2, d: 3 }, list: [1, 2] }, { 'if-match': '"0"' }, bearer)
        const patched = await write(
          server,
          place.path,
          'PATCH',
          { a: null, b: { d: 4, e: 5 }, list: [3], f: 'new' },
          { 'if-match': '"1"' },
          bearer,
        )
        assert.equal(patched.status, 200, patched.text)
        assert.deepEqual(patched.json, { b: { c: 2, d: 4, e: 5 }, list: [3], f: 'new' })
        assert.equal(patched.headers.get('etag'), '"2"')
      })

      it('a write without If-Match is 428, with If-Match: * is 428, with a stale or weak ETag 412, and changes nothing', async (t) => {
        const { server, bearer } = await startWithPlayer(t, backend)
        await write(server, place.path, 'PUT', { v: 1 }, { 'if-match': '"0"' }, bearer)
        await write(server, place.path, 'PUT', { v: 2 }, { 'if-match': '"1"' }, bearer)
        for (const method of ['PUT', 'PATCH'] as const) {
          assertProblem(
            await write(server, place.path, method, { v: 'x' }, {}, bearer),
            428,
            'precondition_required',
            `${method} none`,
          )
          assertProblem(
            await write(server, place.path, method, { v: 'x' }, { 'if-match': '*' }, bearer),
            428,
            'precondition_required',
            `${method} *`,
          )
          for (const etag of ['"1"', '"0"', '"3"', 'W/"2"', '2', 'garbage']) {
            assertProblem(
              await write(server, place.path, method, { v: 'x' }, { 'if-match': etag }, bearer),
              412,
              'precondition_failed',
              `${method} ${etag}`,
            )
          }
        }
        // A list naming the current version among others matches (RFC 9110 §13.1.1).
        const listed = await write(server, place.path, 'PATCH', { w: 1 }, { 'if-match': '"7", "2"' }, bearer)
        assert.equal(listed.status, 200, listed.text)
        assert.deepEqual((await server.request(place.path, { bearer })).json, { v: 2, w: 1 })
      })

      it('data larger than the limit is 413 data_too_large, for a document and for a patch', async (t) => {
        const { server, bearer } = await startWithPlayer(t, backend, {
          TESSERA_SESSION_DATA_MAX_SIZE: '1024',
          TESSERA_PLAYER_DATA_MAX_SIZE: '1024',
        })
        const fits = { blob: 'x'.repeat(1024 - '{"blob":""}'.length) }
        const written = await write(server, place.path, 'PUT', fits, { 'if-match': '"0"' }, bearer)
        assert.equal(written.status, 200, written.text)
        const tooLarge = await write(
          server,
          place.path,
          'PUT',
          { blob: 'x'.repeat(1024) },
          { 'if-match': '"1"' },
          bearer,
        )
        assertProblem(tooLarge, 413, 'data_too_large')
        assert.equal(tooLarge.json.max_bytes, 1024)
        // A small patch that would make the document too large is refused too.
        assertProblem(
          await write(server, place.path, 'PATCH', { more: 'y' }, { 'if-match': '"1"' }, bearer),
          413,
          'data_too_large',
          'grown',
        )
        // Far beyond: refused by the body limit before parsing.
        const huge = await write(
          server,
          place.path,
          'PUT',
          { blob: 'x'.repeat(64 * 1024) },
          { 'if-match': '"1"' },
          bearer,
        )
        assertProblem(huge, 413, 'payload_too_large')
        assert.equal((await server.request(place.path, { bearer })).headers.get('etag'), '"1"')
      })

      it('refuses bodies that are no JSON object and the wrong media types with a 4xx problem', async (t) => {
        const { server, bearer } = await startWithPlayer(t, backend)
        for (const body of ['[]', '"text"', '42', 'null', '{"a":', '{"__proto__":{"x":1}}']) {
          const response = await server.request(place.path, {
            method: 'PUT',
            rawBody: body,
            headers: { 'content-type': 'application/json', 'if-match': '"0"' },
            bearer,
          })
          assertProblem(response, 400, 'validation_failed', body)
        }
        assertProblem(
          await server.request(place.path, {
            method: 'PATCH',
            rawBody: '{}',
            headers: { 'content-type': 'application/json', 'if-match': '"0"' },
            bearer,
          }),
          415,
          'unsupported_media_type',
          'PATCH as application/json',
        )
        assertProblem(
          await server.request(place.path, {
            method: 'PUT',
            rawBody: '{}',
            headers: { 'content-type': mergePatch, 'if-match': '"0"' },
            bearer,
          }),
          415,
          'unsupported_media_type',
          'PUT as merge patch',
        )
        assertProblem(
          await server.request(place.path, {
            method: 'PUT',
            rawBody: '{}',
            headers: { 'content-type': 'text/plain', 'if-match': '"0"' },
            bearer,
          }),
          415,
          'unsupported_media_type',
          'text/plain',
        )
        assertProblem(await server.request(place.path), 401, 'unauthenticated', 'anonymous')
      })

      it('of 50 simultaneous writes of one version exactly one succeeds; the others are 412', async (t) => {
        const { server, bearer } = await startWithPlayer(t, backend)
        await write(server, place.path, 'PUT', { n: 0 }, { 'if-match': '"0"' }, bearer)
        const responses = await Promise.all(
          Array.from({ length: 50 }, (_, index) =>
            index % 2 === 0
              ? write(server, place.path, 'PUT', { n: index }, { 'if-match': '"1"' }, bearer)
              : write(server, place.path, 'PATCH', { n: index }, { 'if-match': '"1"' }, bearer),
          ),
        )
        const statuses = responses.map((response) => response.status)
        assert.equal(statuses.filter((status) => status === 200).length, 1, statuses.join(','))
        assert.equal(statuses.filter((status) => status === 412).length, 49, statuses.join(','))
        const winner = responses.find((response) => response.status === 200)
        const read = await server.request(place.path, { bearer })
        assert.equal(read.headers.get('etag'), '"2"')
        assert.deepEqual(read.json, winner?.json)
      })

      it('a cookie holder writes from the same origin only', async (t) => {
        const { server } = await startWithPlayer(t, backend)
        const { username } = await registerUser(server)
        const { cookie } = await logInWithCookie(server, username)
        const origin = new URL(server.config.tokens.issuer).origin
        const send = (headers: Record<string, string>) =>
          server.request(place.path, {
            method: 'PUT',
            rawBody: '{"a":1}',
            headers: { 'content-type': 'application/json', 'if-match': '"0"', ...headers },
            cookie,
          })
        assertProblem(await send({ origin: 'https://evil.example' }), 403, 'csrf_rejected')
        assert.equal((await send({ origin })).status, 200)
        assert.deepEqual((await server.request(place.path, { cookie })).json, { a: 1 })
      })
    })
  }

  describe(
    `session data and player data across sessions and for service clients (${backend.name})`,
    { skip: backend.skip },
    () => {
      it('session data belongs to one session and ends with it; player data stays with the user', async (t) => {
        const { server, username, bearer, tokens } = await startWithPlayer(t, backend)
        await write(server, '/v1/sessions/current/data', 'PUT', { cart: [1] }, { 'if-match': '"0"' }, bearer)
        await write(server, '/v1/me/data', 'PUT', { xp: 5 }, { 'if-match': '"0"' }, bearer)
        const second = await logInWithToken(server, username)
        assert.deepEqual((await server.request('/v1/sessions/current/data', { bearer: second.access_token })).json, {})
        assert.deepEqual((await server.request('/v1/me/data', { bearer: second.access_token })).json, { xp: 5 })

        const client = await createIntrospectionClient(server)
        const asClient = { authorization: client.authorization }
        const ofSession = await server.request(`/v1/sessions/${tokens.session_id}/data`, { headers: asClient })
        assert.equal(ofSession.status, 200)
        assert.deepEqual(ofSession.json, { cart: [1] })

        assert.equal((await server.request('/v1/auth/logout', { method: 'POST', bearer })).status, 204)
        assertProblem(
          await server.request(`/v1/sessions/${tokens.session_id}/data`, { headers: asClient }),
          404,
          'not_found',
          'ended read',
        )
        assertProblem(
          await server.request(`/v1/sessions/${tokens.session_id}/data`, {
            method: 'PUT',
            rawBody: '{}',
            headers: { ...asClient, 'content-type': 'application/json', 'if-match': '"1"' },
          }),
          404,
          'not_found',
          'ended write',
        )
        assert.equal(await server.stores.sessionData.readDocument(tokens.session_id), null)
        assert.deepEqual((await server.request('/v1/me/data', { bearer: second.access_token })).json, { xp: 5 })
      })

      it("a service client reads and writes a session's and a user's data with versions; others are refused", async (t) => {
        const { server, userId, bearer, tokens } = await startWithPlayer(t, backend)
        const client = await createIntrospectionClient(server)
        const asClient = { authorization: client.authorization }
        const sessionPath = `/v1/sessions/${tokens.session_id}/data`
        const userPath = `/v1/users/${userId}/data`
        for (const path of [sessionPath, userPath]) {
          const put = await server.request(path, {
            method: 'PUT',
            rawBody: '{"score":1}',
            headers: { ...asClient, 'content-type': 'application/json', 'if-match': '"0"' },
          })
          assert.equal(put.status, 200, put.text)
          const patch = await server.request(path, {
            method: 'PATCH',
            rawBody: '{"score":2}',
            headers: { ...asClient, 'content-type': mergePatch, 'if-match': '"1"' },
          })
          assert.equal(patch.headers.get('etag'), '"2"')
          const stale = await server.request(path, {
            method: 'PATCH',
            rawBody: '{"score":3}',
            headers: { ...asClient, 'content-type': mergePatch, 'if-match': '"1"' },
          })
          assertProblem(stale, 412, 'precondition_failed')
          assertProblem(await server.request(path), 401, 'invalid_client', `${path} anonymous`)
          assertProblem(await server.request(path, { bearer }), 401, 'invalid_client', `${path} as player`)
        }
        assert.deepEqual((await server.request('/v1/sessions/current/data', { bearer })).json, { score: 2 })
        assert.deepEqual((await server.request('/v1/me/data', { bearer })).json, { score: 2 })
        assertProblem(
          await server.request('/v1/users/no-such-user/data', { headers: asClient }),
          404,
          'not_found',
          'unknown user',
        )
        assertProblem(
          await server.request('/v1/sessions/no-such-session/data', { headers: asClient }),
          404,
          'not_found',
          'unknown session',
        )
      })
    },
  )
}

/**
 * The verifier in the two kinds of resource server it is made for: a Fastify app (the hook) and
 * a plain `node:http` server (`authenticateRequest` + `sendVerifierError`), over real HTTP.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import Fastify from 'fastify'
import { createFastifyAuthHook, sendVerifierError, type Principal } from '../../src/verifier/index.ts'
import { signInAsAdmin } from '../helpers/token-lifecycle.ts'
import { createTestVerifier } from '../helpers/verifier.ts'
import { logInWithToken, registerUser, startTestServer, type TestServer } from '../helpers/test-server.ts'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
}

async function startTessera(t: TestContext): Promise<TestServer> {
  const start = new Date(Math.floor(Date.now() / 1000) * 1000)
  t.mock.timers.enable({ apis: ['Date'], now: start.getTime() })
  return startTestServer(t, {}, { clockStart: start })
}

async function get(url: string, token?: string) {
  const response = await fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

describe('verifier HTTP adapters', () => {
  it('the Fastify hook puts the principal on the request, and answers 401 and 403 with problem+json', async (t) => {
    const tessera = await startTessera(t)
    const { verifier } = createTestVerifier(tessera)
    const app = Fastify()
    app.decorateRequest('principal', null)
    app.addHook('onRequest', createFastifyAuthHook(verifier))
    app.get('/whoami', async (request) => ({ userId: request.principal?.userId }))
    app.get('/admin', { preHandler: createFastifyAuthHook(verifier, { roles: ['admin'] }) }, async () => ({ ok: true }))
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    t.after(() => app.close())

    const { username, id } = await registerUser(tessera)
    const user = await logInWithToken(tessera, username)
    const admin = await signInAsAdmin(tessera)
    assert.deepEqual(JSON.parse((await get(`${url}/whoami`, user.access_token)).text), { userId: id })
    assert.equal((await get(`${url}/admin`, admin.access_token)).status, 200)

    const anonymous = await get(`${url}/whoami`)
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer')
    assert.match(anonymous.headers.get('content-type') ?? '', /^application\/problem\+json/)
    assert.equal(JSON.parse(anonymous.text).code, 'missing_token')

    const forged = await get(`${url}/whoami`, `${user.access_token.slice(0, -4)}AAAA`)
    assert.equal(forged.status, 401)
    assert.equal(forged.headers.get('www-authenticate'), 'Bearer error="invalid_token"')

    const forbidden = await get(`${url}/admin`, user.access_token)
    assert.equal(forbidden.status, 403)
    assert.equal(forbidden.headers.get('www-authenticate'), 'Bearer error="insufficient_scope"')
    assert.equal(JSON.parse(forbidden.text).code, 'insufficient_role')
  })

  it('a node:http server uses authenticateRequest and sendVerifierError', async (t) => {
    const tessera = await startTessera(t)
    const { verifier } = createTestVerifier(tessera)
    const server = createServer(async (request, response) => {
      try {
        const principal = await verifier.authenticateRequest(request)
        response.writeHead(200, { 'content-type': 'text/plain' }).end(principal.userId)
      } catch (error) {
        sendVerifierError(response, error)
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const { username, id } = await registerUser(tessera)
    const user = await logInWithToken(tessera, username)
    assert.deepEqual(await get(url, user.access_token).then((response) => [response.status, response.text]), [200, id])
    const refused = await get(url, 'not-a-token')
    assert.equal(refused.status, 401)
    assert.deepEqual(JSON.parse(refused.text), {
      type: 'urn:tessera:problem:invalid_token',
      title: 'Invalid token',
      status: 401,
      code: 'invalid_token',
    })
    assert.equal(refused.headers.get('cache-control'), 'no-store')
  })

  it('sendVerifierError() rethrows anything that is not a refusal', () => {
    const response = { writeHead: () => response, end: () => response }
    assert.throws(() => sendVerifierError(response, new Error('a bug')), /a bug/)
  })

  it('the Fastify hook reads the raw Node header list when the request carries one', async (t) => {
    const tessera = await startTessera(t)
    const { verifier } = createTestVerifier(tessera)
    const { username, id } = await registerUser(tessera)
    const user = await logInWithToken(tessera, username)
    const hook = createFastifyAuthHook(verifier)
    const reply = { code: () => reply, header: () => reply, send: () => reply }
    // `headers` says nothing: only the raw list holds the token, as in Node before `headers` is built.
    const request: {
      headers: Record<string, string>
      raw: { headers: Record<string, string>; rawHeaders: string[] }
      principal: Principal | null
    } = {
      headers: {},
      raw: { headers: {}, rawHeaders: ['Host', '127.0.0.1', 'Authorization', `Bearer ${user.access_token}`] },
      principal: null,
    }
    assert.equal(await hook(request, reply), undefined)
    assert.equal(request.principal?.userId, id)
  })
})

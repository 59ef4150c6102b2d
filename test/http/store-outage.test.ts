/**
 * ER-03 at the HTTP edge, deterministically: while the stores cannot answer, requests that need
 * them get 503 problem+json with Retry-After (never 500, never a credential taken on trust), and
 * /readyz says not ready; when the stores answer again, so does the server.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { toApplicationSettings } from '../../src/config/application-settings.ts'
import { createApplication } from '../../src/core/application/application.ts'
import type { Stores } from '../../src/core/stores.ts'
import { buildApp } from '../../src/http/app.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'
import { createStoreUnavailableError } from '../../src/storage/store-unavailable.ts'
import { createManualClock } from '../helpers/manual-clock.ts'

const password = 'correct horse battery staple'

/** Every method of `store` fails as an unreachable backend would while `isDown()`. */
function withOutage<T extends object>(store: T, isDown: () => boolean): T {
  const wrapped: Record<string, unknown> = {}
  for (const [name, member] of Object.entries(store)) {
    wrapped[name] =
      typeof member === 'function'
        ? async (...args: unknown[]) => {
            if (isDown()) throw createStoreUnavailableError(new Error('connect ECONNREFUSED 127.0.0.1:5432'))
            return member.apply(store, args)
          }
        : member
  }
  return wrapped as T
}

/**
 * `outage: 'all'` takes every store down; `'durable'` only those PostgreSQL holds beside Redis
 * (users, keys, clients, audit, alerts), as when PostgreSQL fails and Redis does not.
 */
async function startServerWithSwitchableStores(t: TestContext, outage: 'all' | 'durable' = 'all') {
  let isDown = false
  const clock = createManualClock()
  const sqlite = openSqliteStores(':memory:', clock.now())
  const down = () => isDown
  const hotDown = () => isDown && outage === 'all'
  const stores: Stores = {
    accounts: withOutage(sqlite.accounts, down),
    revokedSessions: withOutage(sqlite.revokedSessions, down),
    sessions: withOutage(sqlite.sessions, hotDown),
    signingKeys: withOutage(sqlite.signingKeys, down),
    refreshTokens: withOutage(sqlite.refreshTokens, hotDown),
    serviceClients: withOutage(sqlite.serviceClients, down),
    throttles: withOutage(sqlite.throttles, hotDown),
    audit: withOutage(sqlite.audit, down),
    alerts: withOutage(sqlite.alerts, down),
    secondFactors: withOutage(sqlite.secondFactors, down),
    passkeys: withOutage(sqlite.passkeys, down),
    emails: withOutage(sqlite.emails, down),
    playerData: withOutage(sqlite.playerData, down),
    devices: withOutage(sqlite.devices, down),
    sessionData: withOutage(sqlite.sessionData, hotDown),
    tickets: withOutage(sqlite.tickets, hotDown),
    schedulerLocks: withOutage(sqlite.schedulerLocks, hotDown),
    runUnitOfWork: withOutage({ runUnitOfWork: sqlite.runUnitOfWork }, down).runUnitOfWork,
    checkHealth: withOutage({ checkHealth: sqlite.checkHealth }, down).checkHealth,
    close: () => sqlite.close(),
  }
  // No session copies: every request must reach the stores.
  const config = loadConfig({ TESSERA_LOG_LEVEL: 'silent', TESSERA_SESSION_CACHE_TTL: '0' })
  const settings = toApplicationSettings(config)
  const application = await createApplication({
    stores,
    clock,
    masterKey: randomBytes(32),
    settings: {
      ...settings,
      passwords: { ...settings.passwords, argon2: { memoryKiB: 1024, passes: 1, parallelism: 1 } },
    },
  })
  const app = await buildApp({ config, application, logger: false })
  t.after(async () => {
    await app.close()
    await sqlite.close()
  })
  const request = (method: string, url: string, init: { body?: unknown; bearer?: string } = {}) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.bearer === undefined ? {} : { authorization: `Bearer ${init.bearer}` }),
      },
      ...(init.body === undefined ? {} : { payload: JSON.stringify(init.body) }),
    })
  return { request, clock, setDown: (next: boolean) => void (isDown = next) }
}

function assertUnavailable(response: { statusCode: number; headers: Record<string, unknown>; body: string }): void {
  assert.equal(response.statusCode, 503)
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/)
  assert.equal(response.headers['retry-after'], '1')
  assert.equal(JSON.parse(response.body).code, 'service_unavailable')
  assert.doesNotMatch(response.body, /ECONNREFUSED|5432|stack/)
}

describe('requests while the stores are down', () => {
  it('a bearer request answers 503 with Retry-After, then 200 once the store is back', async (t) => {
    const server = await startServerWithSwitchableStores(t)
    assert.equal(
      (await server.request('POST', '/v1/auth/register', { body: { username: 'alice', password } })).statusCode,
      201,
    )
    const login = await server.request('POST', '/v1/auth/login', { body: { username: 'alice', password } })
    const accessToken = JSON.parse(login.body).access_token as string
    assert.equal((await server.request('GET', '/v1/me', { bearer: accessToken })).statusCode, 200)
    server.setDown(true)
    assertUnavailable(await server.request('GET', '/v1/me', { bearer: accessToken }))
    server.setDown(false)
    assert.equal((await server.request('GET', '/v1/me', { bearer: accessToken })).statusCode, 200)
  })

  it('login, registration and logout answer 503, not 500 and not a false success', async (t) => {
    const server = await startServerWithSwitchableStores(t)
    await server.request('POST', '/v1/auth/register', { body: { username: 'bob', password } })
    const login = await server.request('POST', '/v1/auth/login', { body: { username: 'bob', password } })
    const accessToken = JSON.parse(login.body).access_token as string
    server.setDown(true)
    assertUnavailable(await server.request('POST', '/v1/auth/login', { body: { username: 'bob', password } }))
    assertUnavailable(await server.request('POST', '/v1/auth/register', { body: { username: 'carol', password } }))
    assertUnavailable(await server.request('POST', '/v1/auth/logout', { bearer: accessToken }))
    server.setDown(false)
    // The refused logout changed nothing: the session still works, and can now be ended.
    assert.equal((await server.request('GET', '/v1/me', { bearer: accessToken })).statusCode, 200)
    assert.equal((await server.request('POST', '/v1/auth/logout', { bearer: accessToken })).statusCode, 204)
    assert.equal((await server.request('GET', '/v1/me', { bearer: accessToken })).statusCode, 401)
  })

  it('/readyz is 503 while a store is down and 200 when it is back; /healthz stays 200', async (t) => {
    const server = await startServerWithSwitchableStores(t)
    assert.equal((await server.request('GET', '/readyz')).statusCode, 200)
    server.setDown(true)
    assertUnavailable(await server.request('GET', '/readyz'))
    assert.equal((await server.request('GET', '/healthz')).statusCode, 200)
    server.setDown(false)
    assert.equal((await server.request('GET', '/readyz')).statusCode, 200)
  })

  it('a refresh refused while only the user store is down changes nothing: the same token works after the outage, past the grace window', async (t) => {
    const server = await startServerWithSwitchableStores(t, 'durable')
    await server.request('POST', '/v1/auth/register', { body: { username: 'dana', password } })
    const login = JSON.parse(
      (await server.request('POST', '/v1/auth/login', { body: { username: 'dana', password } })).body,
    )
    server.setDown(true)
    assertUnavailable(
      await server.request('POST', '/v1/auth/refresh', { body: { refresh_token: login.refresh_token } }),
    )
    server.clock.advanceSeconds(60)
    server.setDown(false)
    const refreshed = await server.request('POST', '/v1/auth/refresh', { body: { refresh_token: login.refresh_token } })
    assert.equal(refreshed.statusCode, 200, refreshed.body)
    const accessToken = JSON.parse(refreshed.body).access_token as string
    assert.equal((await server.request('GET', '/v1/me', { bearer: accessToken })).statusCode, 200)
  })
})

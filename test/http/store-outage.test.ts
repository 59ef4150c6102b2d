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

/** Wraps one store (`isHot`: one Redis would hold beside PostgreSQL) for a test's fault. */
type StoreWrapper = <T extends object>(store: T, name: string, isHot: boolean) => T

/** A server on in-memory SQLite stores, each passed through `wrap`. */
async function startServerWithStores(t: TestContext, wrap: StoreWrapper) {
  const clock = createManualClock()
  const sqlite = openSqliteStores(':memory:', clock.now())
  const durable = <T extends object>(store: T, name: string) => wrap(store, name, false)
  const hot = <T extends object>(store: T, name: string) => wrap(store, name, true)
  const stores: Stores = {
    accounts: durable(sqlite.accounts, 'accounts'),
    revokedSessions: durable(sqlite.revokedSessions, 'revokedSessions'),
    sessions: hot(sqlite.sessions, 'sessions'),
    signingKeys: durable(sqlite.signingKeys, 'signingKeys'),
    refreshTokens: hot(sqlite.refreshTokens, 'refreshTokens'),
    serviceClients: durable(sqlite.serviceClients, 'serviceClients'),
    throttles: hot(sqlite.throttles, 'throttles'),
    audit: durable(sqlite.audit, 'audit'),
    alerts: durable(sqlite.alerts, 'alerts'),
    secondFactors: durable(sqlite.secondFactors, 'secondFactors'),
    passkeys: durable(sqlite.passkeys, 'passkeys'),
    emails: durable(sqlite.emails, 'emails'),
    playerData: durable(sqlite.playerData, 'playerData'),
    devices: durable(sqlite.devices, 'devices'),
    sessionData: hot(sqlite.sessionData, 'sessionData'),
    tickets: hot(sqlite.tickets, 'tickets'),
    schedulerLocks: hot(sqlite.schedulerLocks, 'schedulerLocks'),
    runUnitOfWork: durable({ runUnitOfWork: sqlite.runUnitOfWork }, 'runUnitOfWork').runUnitOfWork,
    checkHealth: durable({ checkHealth: sqlite.checkHealth }, 'checkHealth').checkHealth,
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
  return { request, clock }
}

/**
 * `outage: 'all'` takes every store down; `'durable'` only those PostgreSQL holds beside Redis
 * (users, keys, clients, audit, alerts), as when PostgreSQL fails and Redis does not.
 */
async function startServerWithSwitchableStores(t: TestContext, outage: 'all' | 'durable' = 'all') {
  let isDown = false
  const server = await startServerWithStores(t, (store, _name, isHot) =>
    withOutage(store, () => isDown && (outage === 'all' || !isHot)),
  )
  return { ...server, setDown: (next: boolean) => void (isDown = next) }
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

  it(
    'a sign-in failed by an outage answers 503 without waiting for its undo steps, which a hung store would hold',
    { timeout: 10_000 },
    async (t) => {
      // The audit write fails, then the hot stores hang: what the request sends them from then on
      // (discarding the unissued session, refunding the throttle charge) stays unanswered.
      let phase: 'up' | 'audit fails' | 'hung' = 'up'
      const held: Array<() => void> = []
      const server = await startServerWithStores(t, (store, name, isHot) => {
        const wrapped: Record<string, unknown> = {}
        for (const [method, member] of Object.entries(store)) {
          wrapped[method] =
            typeof member === 'function'
              ? async (...args: unknown[]) => {
                  if (phase === 'audit fails' && name === 'audit') {
                    phase = 'hung'
                    throw createStoreUnavailableError(new Error('PostgreSQL did not answer within 1000 ms'))
                  }
                  if (phase === 'hung' && isHot) {
                    return new Promise((_resolve, reject) => {
                      held.push(() => reject(createStoreUnavailableError(new Error('Redis did not answer'))))
                    })
                  }
                  return member.apply(store, args)
                }
              : member
        }
        return wrapped as typeof store
      })
      t.after(() => held.forEach((fail) => fail()))
      assert.equal(
        (await server.request('POST', '/v1/auth/register', { body: { username: 'erin', password } })).statusCode,
        201,
      )
      phase = 'audit fails'
      assertUnavailable(await server.request('POST', '/v1/auth/login', { body: { username: 'erin', password } }))
      assert.equal(phase, 'hung', 'the audit write failed the sign-in')
      assert.ok(held.length >= 1, 'the undo steps were sent, and are still unanswered')
      held.splice(0).forEach((fail) => fail())
      phase = 'up'
      const login = await server.request('POST', '/v1/auth/login', { body: { username: 'erin', password } })
      assert.equal(login.statusCode, 200, login.body)
    },
  )
})

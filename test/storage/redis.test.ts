import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { randomBytes } from 'node:crypto'
import { createApplication } from '../../src/core/application/application.ts'
import { TesseraError } from '../../src/core/errors.ts'
import { hashToken } from '../../src/core/secrets.ts'
import { createManualClock } from '../helpers/manual-clock.ts'
import { testInvalidationBus } from '../../src/storage/contract/invalidation-bus.ts'
import {
  buildSessionRecord,
  contractEpoch,
  insertTestUser,
  secondsAfterEpoch,
} from '../../src/storage/contract/records.ts'
import { testSessionStore } from '../../src/storage/contract/sessions.ts'
import { testRefreshTokenStore } from '../../src/storage/contract/refresh-tokens.ts'
import { testSchedulerLockStore } from '../../src/storage/contract/scheduler-leases.ts'
import { testThrottleStore } from '../../src/storage/contract/throttles.ts'
import { testSessionDataStore } from '../../src/storage/contract/documents.ts'
import { testTicketStore } from '../../src/storage/contract/tickets.ts'
import { openRedisConnection, type RedisConnection } from '../../src/storage/redis/connection.ts'
import { openRedisInvalidationBus } from '../../src/storage/redis/invalidation-bus.ts'
import { createSchedulerLeaseKey } from '../../src/storage/redis/scheduler-leases.ts'
import { createRedisSessionStore, createSessionKeys } from '../../src/storage/redis/sessions.ts'
import { insertSessionScript } from '../../src/storage/redis/session-scripts.ts'
import { createThrottleKeys } from '../../src/storage/redis/throttles.ts'
import { skipUnlessRedis, skipUnlessRedisServerProgram } from '../helpers/backends.ts'
import { createTestRedisSettings, deleteTestKeys, openTestRedisStores, startOwnRedisServer } from '../helpers/redis.ts'
import { buildTestApplicationSettings } from '../helpers/core-settings.ts'

const skip = await skipUnlessRedis()
const coreSettings = buildTestApplicationSettings()
const skipOwnServer = skip || skipUnlessRedisServerProgram()

describe('Redis stores', { skip }, () => {
  testSessionStore(() => openTestRedisStores(createTestRedisSettings(), contractEpoch))
  testRefreshTokenStore(() => openTestRedisStores(createTestRedisSettings(), contractEpoch))
  testThrottleStore(() => openTestRedisStores(createTestRedisSettings(), contractEpoch), { expiresByItself: true })
  testSchedulerLockStore(() => openTestRedisStores(createTestRedisSettings(), contractEpoch))
  testSessionDataStore(() => openTestRedisStores(createTestRedisSettings(), contractEpoch))
  testTicketStore(() => openTestRedisStores(createTestRedisSettings(), contractEpoch), { expiresByItself: true })
})

describe('Redis invalidation bus', { skip }, () => {
  testInvalidationBus(async () => {
    const settings = createTestRedisSettings()
    const connection = await openRedisConnection({ settings, timeoutMs: 2000 })
    return {
      open: () => openRedisInvalidationBus({ redis: connection, keyPrefix: settings.keyPrefix }),
      close: () => connection.close(),
    }
  })
})

describe('Redis session layout', { skip }, () => {
  it('a session expires by TTL at its absolute expiry, and its token pointer with it', async (t) => {
    const stores = await openTestRedisStores(createTestRedisSettings(), contractEpoch)
    t.after(() => stores.close())
    const keys = createSessionKeys(stores.keyPrefix)
    const user = await insertTestUser(stores.accounts)
    const session = buildSessionRecord({
      userId: user.id,
      absoluteExpiresAt: new Date(contractEpoch.getTime() + 3_600_000),
    })
    await stores.sessions.insertSession(session)
    for (const key of [keys.session(session.id), keys.sessionToken(session.tokenHash ?? '')]) {
      const ttl = await stores.connection.command<number>(key, ['PTTL', key])
      assert.ok(ttl > 3_590_000 && ttl <= 3_600_000, `${key} TTL ${ttl}`)
    }
  })

  it('a sign-in whose place is taken between its place and its insert ends itself: never one session over the limit', async (t) => {
    const stores = await openTestRedisStores(createTestRedisSettings(), contractEpoch)
    t.after(() => stores.close())
    const user = await insertTestUser(stores.accounts)
    const expiresAt = new Date(contractEpoch.getTime() + 3_600_000)
    const first = buildSessionRecord({ userId: user.id, absoluteExpiresAt: expiresAt })
    const second = buildSessionRecord({ userId: user.id, absoluteExpiresAt: new Date(expiresAt.getTime() + 1000) })
    // The first sign-in's store stops just before it writes its session, as a slow node would.
    let releaseInsert = () => {}
    const insertHeld = new Promise<void>((resolve) => (releaseInsert = resolve))
    let reachedInsert = () => {}
    const atInsert = new Promise<void>((resolve) => (reachedInsert = resolve))
    const slowConnection: RedisConnection = {
      ...stores.connection,
      command: (key, args) => stores.connection.command(key, args),
      async runScript(script, keys, args) {
        if (script === insertSessionScript && args.includes(first.id)) {
          reachedInsert()
          await insertHeld
        }
        return stores.connection.runScript(script, keys, args)
      },
    }
    const slowStore = createRedisSessionStore(slowConnection, stores.keyPrefix)
    const limit = { maxSessions: 1, onFull: 'end_oldest' as const }
    const firstSignIn = slowStore.insertLimitedSession(first, limit, contractEpoch)
    await atInsert
    const secondSignIn = await stores.sessions.insertLimitedSession(second, limit, contractEpoch)
    releaseInsert()
    const firstResult = await firstSignIn
    assert.equal((await stores.sessions.findSessionById(first.id))?.endedNotice, 'signed_in_elsewhere')
    assert.equal((await stores.sessions.findSessionById(second.id))?.endedNotice, undefined)
    // Its end is reported once, by the call that marked it.
    const reported = [firstResult, secondSignIn].flatMap((result) => (result.admitted ? result.endedSessionIds : []))
    assert.deepEqual(reported, [first.id])
  })

  it("session data sits in its session's slot, expires with it, and is deleted with it", async (t) => {
    const stores = await openTestRedisStores(createTestRedisSettings(), contractEpoch)
    t.after(() => stores.close())
    const keys = createSessionKeys(stores.keyPrefix)
    const user = await insertTestUser(stores.accounts)
    const session = buildSessionRecord({
      userId: user.id,
      absoluteExpiresAt: new Date(contractEpoch.getTime() + 3_600_000),
    })
    await stores.sessions.insertSession(session)
    await stores.sessionData.writeDocument(session.id, '{"cart":[1]}', 0)
    const dataKey = keys.sessionData(session.id)
    assert.ok(dataKey.endsWith(`{${session.id}}`))
    const ttl = await stores.connection.command<number>(dataKey, ['PTTL', dataKey])
    assert.ok(ttl > 3_590_000 && ttl <= 3_600_000, `TTL ${ttl}`)
    await stores.sessions.deleteSession(session.id)
    assert.equal(await stores.connection.command<number>(dataKey, ['EXISTS', dataKey]), 0)
  })

  it('keys of one session, or of one user, carry its id as the hash tag', async (t) => {
    const stores = await openTestRedisStores(createTestRedisSettings(), contractEpoch)
    t.after(() => stores.close())
    const keys = createSessionKeys(stores.keyPrefix)
    const user = await insertTestUser(stores.accounts)
    const session = buildSessionRecord({ userId: user.id, tokenHash: 'hash-of-token' })
    await stores.sessions.insertSession(session)
    const stored = new Set(await stores.connection.scanKeys(`${stores.keyPrefix}:*`))
    for (const key of [keys.session(session.id), keys.sessionToken('hash-of-token'), keys.userSessions(user.id)]) {
      assert.ok(stored.has(key), key)
    }
    assert.ok(keys.session(session.id).endsWith(`{${session.id}}`))
    assert.ok(keys.userSessions(user.id).endsWith(`{${user.id}}`))
  })

  it('holds only hashes of session and refresh tokens, never the tokens (SE-02)', async (t) => {
    const stores = await openTestRedisStores(createTestRedisSettings(), contractEpoch)
    t.after(() => stores.close())
    const clock = createManualClock(contractEpoch)
    const core = await createApplication({ stores, clock, masterKey: randomBytes(32), settings: coreSettings })
    const password = 'correct horse battery staple'
    const client = { ip: '192.0.2.1', userAgent: 'test', requestId: null }
    await core.signIn.register({ username: 'alice', password }, client)
    const wrongPassword = 'a wrong password for alice'
    await assert.rejects(
      core.signIn.signIn({ username: 'alice', password: wrongPassword, transport: 'cookie', ...client }),
    )
    const cookie = await core.signIn.signIn({ username: 'alice', password, transport: 'cookie', ...client })
    const token = await core.signIn.signIn({ username: 'alice', password, transport: 'token', ...client })
    clock.advanceSeconds(5)
    const refreshed = await core.signIn.refresh(token.tokens?.refreshToken ?? '', client)
    const secrets = [cookie.sessionToken ?? '', token.tokens?.refreshToken ?? '', refreshed.tokens.refreshToken]
    // Everything under the prefix, keys and values alike.
    const dump: string[] = []
    for (const key of await stores.connection.scanKeys(`${stores.keyPrefix}:*`)) {
      const type = await stores.connection.command<string>(key, ['TYPE', key])
      const read = type === 'hash' ? ['HGETALL', key] : type === 'zset' ? ['ZRANGE', key, '0', '-1'] : ['GET', key]
      dump.push(key, JSON.stringify(await stores.connection.command(key, read)))
    }
    const text = dump.join('\n')
    assert.ok(text.includes(hashToken(cookie.sessionToken ?? '')), 'the search finds what is stored')
    assert.ok(text.includes(hashToken(refreshed.tokens.refreshToken)))
    assert.ok(text.includes('signin:known:alice|'), 'the throttle records are in the search')
    assert.equal(text.includes(password), false)
    assert.equal(text.includes(wrongPassword), false)
    for (const secret of secrets) {
      assert.ok(secret.length >= 43)
      assert.equal(text.includes(secret), false)
      assert.equal(text.includes(Buffer.from(secret, 'base64url').toString('hex')), false)
    }
  })

  it('a pointer left by a session that is gone does not block a new session with that hash', async (t) => {
    const stores = await openTestRedisStores(createTestRedisSettings(), contractEpoch)
    t.after(() => stores.close())
    const keys = createSessionKeys(stores.keyPrefix)
    const user = await insertTestUser(stores.accounts)
    const first = buildSessionRecord({ userId: user.id, tokenHash: 'recycled' })
    await stores.sessions.insertSession(first)
    // The session vanishes without its tidy-up (as when its TTL runs out).
    await stores.connection.command(keys.session(first.id), ['DEL', keys.session(first.id)])
    const second = buildSessionRecord({ userId: user.id, tokenHash: 'recycled' })
    await stores.sessions.insertSession(second)
    assert.deepEqual(await stores.sessions.findSessionByTokenHash('recycled'), second)
  })

  it('a pointer whose session does not hold that hash finds nothing', async (t) => {
    const stores = await openTestRedisStores(createTestRedisSettings(), contractEpoch)
    t.after(() => stores.close())
    const keys = createSessionKeys(stores.keyPrefix)
    const user = await insertTestUser(stores.accounts)
    const session = buildSessionRecord({ userId: user.id, tokenHash: 'hash-a' })
    await stores.sessions.insertSession(session)
    await stores.connection.command(keys.sessionToken('hash-b'), ['SET', keys.sessionToken('hash-b'), session.id])
    assert.equal(await stores.sessions.findSessionByTokenHash('hash-b'), null)
  })
})

describe('Redis throttle and lease layout', { skip }, () => {
  it('a throttle record carries its expiry as its Redis TTL, which moves later with it and goes with a null expiry', async (t) => {
    const stores = await openTestRedisStores(createTestRedisSettings(), contractEpoch)
    t.after(() => stores.close())
    const key = createThrottleKeys(stores.keyPrefix).record('signin:account:alice')
    const expiryOf = () => stores.connection.command<number>(key, ['PEXPIRETIME', key])
    await stores.throttles.incrementThrottles(
      [{ key: 'signin:account:alice', expiresAt: secondsAfterEpoch(60) }],
      contractEpoch,
    )
    assert.equal(await expiryOf(), secondsAfterEpoch(60).getTime())
    await stores.throttles.incrementThrottles(
      [{ key: 'signin:account:alice', expiresAt: secondsAfterEpoch(30) }],
      contractEpoch,
    )
    assert.equal(await expiryOf(), secondsAfterEpoch(60).getTime())
    const blockedUntil = secondsAfterEpoch(5)
    await stores.throttles.settleThrottleFailures(
      [{ key: 'signin:account:alice', blockedUntil, expiresAt: secondsAfterEpoch(120) }],
      contractEpoch,
    )
    assert.equal(await expiryOf(), secondsAfterEpoch(120).getTime())
    await stores.throttles.settleThrottleFailures(
      [{ key: 'signin:account:alice', blockedUntil, expiresAt: null }],
      contractEpoch,
    )
    assert.equal(await expiryOf(), -1, 'no TTL')
    // An expired record that Redis still holds restarts with the new expiry as its TTL.
    const restartedAt = secondsAfterEpoch(1_000_000)
    await stores.throttles.incrementThrottles(
      [{ key: 'signin:account:alice', expiresAt: secondsAfterEpoch(60) }],
      contractEpoch,
    )
    await stores.connection.command(key, ['HSET', key, 'expiresAt', String(secondsAfterEpoch(100).getTime())])
    await stores.throttles.incrementThrottles(
      [{ key: 'signin:account:alice', expiresAt: new Date(restartedAt.getTime() + 60_000) }],
      restartedAt,
    )
    assert.equal(await expiryOf(), restartedAt.getTime() + 60_000)
  })

  it('Redis deletes a throttle record by itself once its expiry has passed on the real clock', async (t) => {
    const stores = await openTestRedisStores(createTestRedisSettings(), contractEpoch)
    t.after(() => stores.close())
    const keys = createThrottleKeys(stores.keyPrefix)
    const now = new Date(Date.now() - 60_000)
    await stores.throttles.incrementThrottles(
      [
        { key: 'gone', expiresAt: new Date(now.getTime() + 1000) },
        { key: 'kept', expiresAt: new Date(now.getTime() + 3_600_000) },
      ],
      now,
    )
    assert.equal(await stores.connection.command<number>(keys.record('gone'), ['EXISTS', keys.record('gone')]), 0)
    assert.equal(await stores.connection.command<number>(keys.record('kept'), ['EXISTS', keys.record('kept')]), 1)
  })

  it('a job lease has no TTL: the completed occurrence it remembers outlives every lease', async (t) => {
    const stores = await openTestRedisStores(createTestRedisSettings(), contractEpoch)
    t.after(() => stores.close())
    const lease = {
      job: 'retention',
      occurrenceAt: contractEpoch,
      owner: 'node-a',
      now: contractEpoch,
      leaseExpiresAt: secondsAfterEpoch(60),
    }
    assert.equal(await stores.schedulerLocks.acquireJobLease(lease), true)
    await stores.schedulerLocks.completeJobRun({ job: 'retention', owner: 'node-a', occurrenceAt: contractEpoch })
    const key = createSchedulerLeaseKey(stores.keyPrefix, 'retention')
    assert.equal(await stores.connection.command<number>(key, ['PTTL', key]), -1)
    assert.deepEqual(await stores.connection.command(key, ['HGETALL', key]), [
      'completedOccurrenceAt',
      String(contractEpoch.getTime()),
    ])
  })
})

describe('Redis outage', { skip: skipOwnServer }, () => {
  it('commands fail at once with service_unavailable while Redis is down, and work again after it returns', async (t) => {
    const server = await startOwnRedisServer()
    t.after(() => server.stop())
    const settings = createTestRedisSettings({ urls: [server.url] })
    const connection = await openRedisConnection({ settings, timeoutMs: 1000, onBackgroundError: () => {} })
    t.after(() => connection.close())
    await connection.ping()
    await server.kill()
    const startedAt = Date.now()
    await assert.rejects(
      connection.ping(),
      (error) => error instanceof TesseraError && error.code === 'service_unavailable',
    )
    assert.ok(Date.now() - startedAt < 1500)
    await server.start()
    const deadline = Date.now() + 5000
    for (;;) {
      try {
        await connection.ping()
        break
      } catch (error) {
        if (Date.now() > deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    await deleteTestKeys(connection, settings.keyPrefix)
  })

  it('the bus reports itself disconnected while Redis is down, resets its listeners, and reconnects', async (t) => {
    const server = await startOwnRedisServer()
    t.after(() => server.stop())
    const settings = createTestRedisSettings({ urls: [server.url] })
    const connection = await openRedisConnection({ settings, timeoutMs: 500, onBackgroundError: () => {} })
    t.after(() => connection.close())
    const bus = await openRedisInvalidationBus({
      redis: connection,
      keyPrefix: settings.keyPrefix,
      silenceLimitMs: 600,
      onError: () => {},
    })
    t.after(() => bus.close())
    let resets = 0
    bus.subscribe({ onInvalidation: () => {}, onReset: () => void (resets += 1) })
    assert.equal(bus.isConnected(), true)
    await server.kill()
    await waitUntil(() => !bus.isConnected(), 2000)
    assert.ok(resets >= 1)
    await server.start()
    await waitUntil(() => bus.isConnected(), 5000)
    assert.ok(resets >= 2)
  })

  it('opening a connection to a Redis that is not there fails within a bounded time', async () => {
    const startedAt = Date.now()
    await assert.rejects(
      openRedisConnection({
        settings: createTestRedisSettings({ urls: ['redis://127.0.0.1:1'] }),
        timeoutMs: 200,
        onBackgroundError: () => {},
      }),
    )
    assert.ok(Date.now() - startedAt < 7000)
  })
})

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

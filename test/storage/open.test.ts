import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { Config } from '../../src/config/load.ts'
import { contractEpoch } from '../../src/storage/contract/records.ts'
import { openBackends } from '../../src/storage/open.ts'
import { skipUnlessPostgresAndRedis, testRedisUrl } from '../helpers/backends.ts'
import { createTestPostgresSettings, dropTestSchema } from '../helpers/postgres.ts'
import { createTestRedisSettings, openCleanedRedisPrefix } from '../helpers/redis.ts'
import { RedisDeploymentConflictError } from '../../src/storage/redis/deployment.ts'
import { loadConfig } from '../../src/config/load.ts'
import { openRuntime } from '../../src/runtime.ts'
import {
  buildAuditEventRecord,
  buildSessionRecord,
  buildTokenSessionRecord,
  insertTestUser,
} from '../../src/storage/contract/records.ts'

const root = mkdtempSync(join(tmpdir(), 'tessera-open-test-'))
after(() => rmSync(root, { recursive: true, force: true }))
const skip = await skipUnlessPostgresAndRedis()

function storageConfig(overrides: Partial<Config['storage']> = {}): Config['storage'] {
  return {
    dataDir: mkdtempSync(join(root, 'data-')),
    postgres: null,
    redis: null,
    backendTimeoutSeconds: 2,
    ...overrides,
  }
}

describe('openBackends()', () => {
  it('keeps everything in SQLite when no backend is configured', async (t) => {
    const backends = await openBackends(storageConfig(), { now: contractEpoch })
    t.after(() => backends.close())
    assert.deepEqual(backends.layout, { durable: 'sqlite', sessions: 'sqlite' })
    assert.equal(backends.invalidationBus.isConnected(), true)
    await backends.stores.checkHealth()
  })

  describe('with PostgreSQL and Redis', { skip }, () => {
    it('puts durable data and sessions in PostgreSQL when only PostgreSQL is set', async (t) => {
      const postgres = createTestPostgresSettings()
      t.after(() => dropTestSchema(postgres.schema))
      const backends = await openBackends(storageConfig({ postgres }), { now: contractEpoch })
      t.after(() => backends.close())
      assert.deepEqual(backends.layout, { durable: 'postgres', sessions: 'postgres' })
      // Without Redis the nodes hear each other over LISTEN/NOTIFY.
      assert.equal(backends.invalidationBus.isConnected(), true)
      await backends.stores.checkHealth()
    })

    it('shares throttles, the audit trail, scheduler leases and service clients between nodes on one PostgreSQL', async (t) => {
      const postgres = createTestPostgresSettings()
      t.after(() => dropTestSchema(postgres.schema))
      const first = await openBackends(storageConfig({ postgres }), { now: contractEpoch })
      t.after(() => first.close())
      const second = await openBackends(storageConfig({ postgres: { ...postgres, migrateOnStart: false } }), {
        now: contractEpoch,
      })
      t.after(() => second.close())
      const now = contractEpoch
      await first.stores.throttles.incrementThrottles([{ key: 'account:alice', expiresAt: null }], now)
      assert.deepEqual(
        await second.stores.throttles.incrementThrottles([{ key: 'account:alice', expiresAt: null }], now),
        [2],
      )
      const event = buildAuditEventRecord()
      await first.stores.audit.appendEvents([event])
      assert.deepEqual(
        (await second.stores.audit.queryEvents({}, { order: 'oldest_first', after: null, limit: 10 })).map(
          ({ id }) => id,
        ),
        [event.id],
      )
      const lease = { job: 'review', occurrenceAt: now, now, leaseExpiresAt: new Date(now.getTime() + 60_000) }
      assert.equal(await first.stores.schedulerLocks.acquireJobLease({ ...lease, owner: 'node-1' }), true)
      assert.equal(await second.stores.schedulerLocks.acquireJobLease({ ...lease, owner: 'node-2' }), false)
      const client = { id: 'client-1', name: 'game-api', secretHash: 'hash', createdAt: now }
      assert.equal(await first.stores.serviceClients.insertServiceClient(client), 'inserted')
      assert.deepEqual(await second.stores.serviceClients.findServiceClientByName('game-api'), client)
    })

    it('puts sessions, throttles and scheduler leases in Redis and durable data in SQLite when only Redis is set', async (t) => {
      const redis = createTestRedisSettings()
      const cleanup = await openCleanedRedisPrefix(t, redis)
      const open = () => openBackends(storageConfig({ redis }), { now: contractEpoch })
      const [first, second] = [await open(), await open()]
      t.after(() => Promise.all([first.close(), second.close()]))
      assert.deepEqual(first.layout, { durable: 'sqlite', sessions: 'redis' })
      // Two nodes with their own SQLite files share the counters and leases through Redis.
      const now = contractEpoch
      await first.stores.throttles.incrementThrottles([{ key: 'signin:account:alice', expiresAt: null }], now)
      assert.deepEqual(
        await second.stores.throttles.incrementThrottles([{ key: 'signin:account:alice', expiresAt: null }], now),
        [2],
      )
      const lease = { job: 'review', occurrenceAt: now, now, leaseExpiresAt: new Date(now.getTime() + 60_000) }
      assert.equal(await first.stores.schedulerLocks.acquireJobLease({ ...lease, owner: 'node-1' }), true)
      assert.equal(await second.stores.schedulerLocks.acquireJobLease({ ...lease, owner: 'node-2' }), false)
      assert.equal((await cleanup.scanKeys(`${redis.keyPrefix}:throttle:*`)).length, 1)
      assert.equal((await cleanup.scanKeys(`${redis.keyPrefix}:scheduler-lease:*`)).length, 1)
    })

    it('puts durable data in PostgreSQL and sessions in Redis when both are set, with the bus on Redis', async (t) => {
      const postgres = createTestPostgresSettings()
      const redis = createTestRedisSettings()
      t.after(() => dropTestSchema(postgres.schema))
      const cleanup = await openCleanedRedisPrefix(t, redis)
      const backends = await openBackends(storageConfig({ postgres, redis }), { now: contractEpoch })
      t.after(() => backends.close())
      assert.deepEqual(backends.layout, { durable: 'postgres', sessions: 'redis' })
      const user = await insertTestUser(backends.stores.accounts)
      const session = buildSessionRecord({ userId: user.id })
      await backends.stores.sessions.insertSession(session)
      assert.deepEqual(await backends.stores.sessions.findSessionById(session.id), session)
      const keys = await cleanup.scanKeys(`${redis.keyPrefix}:session:*`)
      assert.deepEqual(keys, [`${redis.keyPrefix}:session:{${session.id}}`])
      // Refresh tokens sit beside their sessions: a rotation changes both in one step.
      const tokenSession = buildTokenSessionRecord({ userId: user.id })
      await backends.stores.sessions.insertSession(tokenSession)
      await backends.stores.refreshTokens.insertRefreshToken({
        tokenHash: 'refresh-1',
        sessionId: tokenSession.id,
        issuedAt: contractEpoch,
      })
      assert.deepEqual(await cleanup.scanKeys(`${redis.keyPrefix}:refresh-family:*`), [
        `${redis.keyPrefix}:refresh-family:{${tokenSession.id}}`,
      ])
      assert.equal(backends.invalidationBus.isConnected(), true)
      await backends.stores.checkHealth()
    })

    it('refuses a Redis key prefix claimed by another deployment, and keeps serving the one that claimed it', async (t) => {
      const redis = createTestRedisSettings()
      const cleanup = await openCleanedRedisPrefix(t, redis)
      const open = (deploymentId: string) =>
        openBackends(storageConfig({ redis }), { now: contractEpoch, deploymentId })
      const first = await open('deployment-a')
      t.after(() => first.close())
      const sameDeployment = await open('deployment-a')
      await sameDeployment.close()
      await assert.rejects(open('deployment-b'), (error: Error) => {
        assert.ok(error instanceof RedisDeploymentConflictError)
        assert.match(error.message, new RegExp(`key prefix "${redis.keyPrefix}".*TESSERA_REDIS_KEY_PREFIX`))
        return true
      })
      assert.equal(
        await cleanup.command(`${redis.keyPrefix}:deployment`, ['GET', `${redis.keyPrefix}:deployment`]),
        'deployment-a',
      )
      await first.stores.checkHealth()
    })

    it('a node with its own data directory and master key cannot join a Redis prefix another node uses', async (t) => {
      const redis = createTestRedisSettings()
      await openCleanedRedisPrefix(t, redis)
      const env = (dataDir: string) => ({
        TESSERA_DATA_DIR: dataDir,
        TESSERA_REDIS_URL: testRedisUrl,
        TESSERA_REDIS_KEY_PREFIX: redis.keyPrefix,
        TESSERA_LOG_LEVEL: 'silent',
      })
      const firstDir = mkdtempSync(join(root, 'node-a-'))
      const first = await openRuntime(loadConfig(env(firstDir)))
      t.after(() => first.close())
      await assert.rejects(
        openRuntime(loadConfig(env(mkdtempSync(join(root, 'node-b-'))))),
        RedisDeploymentConflictError,
      )
      // The same data directory (the same master key) is the same deployment: a restart is fine.
      const restarted = await openRuntime(loadConfig(env(firstDir)))
      await restarted.close()
    })

    it('fails within a bounded time when Redis cannot be reached, closing what it opened', async (t) => {
      const postgres = createTestPostgresSettings()
      t.after(() => dropTestSchema(postgres.schema))
      const backendTimeoutSeconds = 0.2
      const timeOpening = async (redis: Config['storage']['redis']) => {
        const startedAt = performance.now()
        const backends = await openBackends(storageConfig({ postgres, redis, backendTimeoutSeconds }), {
          now: contractEpoch,
          onBackgroundError: () => {},
        }).catch(() => null)
        const elapsedMs = performance.now() - startedAt
        await backends?.close()
        return { isOpen: backends !== null, elapsedMs }
      }
      const reachable = createTestRedisSettings()
      await openCleanedRedisPrefix(t, reachable)
      const unreachable = createTestRedisSettings({ urls: ['redis://127.0.0.1:1'] })
      // The schema is migrated once, untimed. Then the same opening with Redis reachable is timed
      // around the failing one: what the machine's load adds to PostgreSQL's part is in both, and
      // only the failing one's wait for Redis is bounded: the connection's start deadline (the
      // backend timeout three times over, at least 5 s; see storage/redis/connection.ts) and a second.
      assert.equal((await timeOpening(reachable)).isOpen, true)
      const before = await timeOpening(reachable)
      const failing = await timeOpening(unreachable)
      const afterwards = await timeOpening(reachable)
      assert.equal(failing.isOpen, false)
      const baselineMs = Math.max(before.elapsedMs, afterwards.elapsedMs)
      const startDeadlineMs = Math.max(5000, 3 * backendTimeoutSeconds * 1000)
      const allowedMs = baselineMs + startDeadlineMs + 1000
      t.diagnostic(
        `failing ${failing.elapsedMs.toFixed(0)} ms, reachable ${before.elapsedMs.toFixed(0)} and ${afterwards.elapsedMs.toFixed(0)} ms`,
      )
      assert.ok(failing.elapsedMs < allowedMs, `${failing.elapsedMs.toFixed(0)} ms, allowed ${allowedMs.toFixed(0)} ms`)
    })
  })
})

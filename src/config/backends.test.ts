import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, describeConfig, loadConfig } from './load.ts'

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  assert.fail('expected a ConfigError')
}

describe('backend settings', () => {
  it('without backend settings everything stays in SQLite', () => {
    const { storage } = loadConfig({})
    assert.equal(storage.postgres, null)
    assert.equal(storage.redis, null)
    assert.equal(storage.backendTimeoutSeconds, 2)
  })

  it('TESSERA_DATABASE_URL selects PostgreSQL with its schema, pool size and migration choice', () => {
    const { storage } = loadConfig({
      TESSERA_DATABASE_URL: 'postgres://tessera:secret@db.internal:5432/tessera',
      TESSERA_DATABASE_SCHEMA: 'auth',
      TESSERA_DATABASE_POOL_SIZE: '20',
      TESSERA_DATABASE_MIGRATE_ON_START: 'true',
    })
    assert.deepEqual(storage.postgres, {
      url: 'postgres://tessera:secret@db.internal:5432/tessera',
      schema: 'auth',
      poolSize: 20,
      migrateOnStart: true,
    })
    assert.equal(storage.redis, null)
  })

  it('TESSERA_DATABASE_URL must be a postgres URL', () => {
    for (const url of ['mysql://db/tessera', 'not a url', 'http://db/tessera']) {
      assert.ok(
        problemsOf({ TESSERA_DATABASE_URL: url }).some((p) => p.startsWith('TESSERA_DATABASE_URL:')),
        url,
      )
    }
    assert.doesNotThrow(() => loadConfig({ TESSERA_DATABASE_URL: 'postgresql://db/tessera' }))
  })

  it('TESSERA_DATABASE_SCHEMA must be a plain identifier (it is put in SQL)', () => {
    for (const schema of ['Auth', 'a-b', 'x"; DROP TABLE users; --', '1abc']) {
      assert.ok(
        problemsOf({ TESSERA_DATABASE_SCHEMA: schema }).some((p) => p.startsWith('TESSERA_DATABASE_SCHEMA:')),
        schema,
      )
    }
  })

  it('TESSERA_REDIS_URL selects one Redis, plain or TLS', () => {
    assert.deepEqual(loadConfig({ TESSERA_REDIS_URL: 'rediss://:pw@cache:6380' }).storage.redis, {
      urls: ['rediss://:pw@cache:6380'],
      isCluster: false,
      keyPrefix: 'tessera',
    })
    assert.ok(problemsOf({ TESSERA_REDIS_URL: 'memcached://cache' }).some((p) => p.startsWith('TESSERA_REDIS_URL:')))
  })

  it('TESSERA_REDIS_CLUSTER takes host:port seeds or URLs', () => {
    const { storage } = loadConfig({ TESSERA_REDIS_CLUSTER: '10.0.0.1:7000, redis://10.0.0.2:7001 ,10.0.0.3:7002' })
    assert.deepEqual(storage.redis, {
      urls: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7001', 'redis://10.0.0.3:7002'],
      isCluster: true,
      keyPrefix: 'tessera',
    })
    assert.ok(problemsOf({ TESSERA_REDIS_CLUSTER: '10.0.0.1' }).some((p) => p.startsWith('TESSERA_REDIS_CLUSTER:')))
  })

  it('TESSERA_REDIS_URL and TESSERA_REDIS_CLUSTER are not both set', () => {
    const problems = problemsOf({ TESSERA_REDIS_URL: 'redis://a:6379', TESSERA_REDIS_CLUSTER: 'b:7000' })
    assert.ok(problems.some((p) => p.startsWith('TESSERA_REDIS_CLUSTER:')))
  })

  it('TESSERA_REDIS_KEY_PREFIX refuses braces, which would move keys between cluster slots', () => {
    assert.ok(problemsOf({ TESSERA_REDIS_KEY_PREFIX: 'a{b}' }).some((p) => p.startsWith('TESSERA_REDIS_KEY_PREFIX:')))
    assert.equal(
      loadConfig({ TESSERA_REDIS_URL: 'redis://a:6379', TESSERA_REDIS_KEY_PREFIX: 'prod.auth' }).storage.redis
        ?.keyPrefix,
      'prod.auth',
    )
  })

  it('TESSERA_BACKEND_TIMEOUT is bounded', () => {
    assert.equal(loadConfig({ TESSERA_BACKEND_TIMEOUT: '500ms' }).storage.backendTimeoutSeconds, 0.5)
    assert.ok(problemsOf({ TESSERA_BACKEND_TIMEOUT: '1m' }).some((p) => p.startsWith('TESSERA_BACKEND_TIMEOUT:')))
  })

  it('variables of the test suite (TESSERA_TEST_*) are not taken for unknown settings', () => {
    assert.doesNotThrow(() =>
      loadConfig({ TESSERA_TEST_REQUIRE_BACKENDS: '1', TESSERA_TEST_REDIS_URL: 'redis://x:6379' }),
    )
    assert.ok(problemsOf({ TESSERA_TESTING: '1' }).some((p) => p.startsWith('TESSERA_TESTING:')))
  })

  it('describeConfig() masks the passwords in backend URLs', () => {
    const described = JSON.stringify(
      describeConfig(
        loadConfig({
          TESSERA_DATABASE_URL: 'postgres://tessera:pg-secret@db:5432/tessera',
          TESSERA_REDIS_CLUSTER: 'redis://:redis-secret@a:7000,b:7001',
        }),
      ),
    )
    assert.equal(described.includes('pg-secret'), false)
    assert.equal(described.includes('redis-secret'), false)
    assert.ok(described.includes('postgres://tessera:***@db:5432/tessera'))
  })
})

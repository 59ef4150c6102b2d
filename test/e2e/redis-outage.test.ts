/**
 * ER-03 with Redis: two Tessera processes share PostgreSQL and a Redis of this test's own. Under
 * a load of mixed sign-ins and `/v1/me` calls, Redis is killed and, a few seconds later, started
 * again. While it is gone every answer is a success or a quick 503 with Retry-After, never a 500
 * and never an ended session accepted; once it is back, the nodes serve again within 5 s, with
 * no restart. (Redis runs with an fsynced append-only file, as sessions deserve in production, so
 * the sessions it acknowledged survive its restart.)
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { skipUnlessPostgresAndRedis, testPostgresUrl, uniqueTestName } from '../helpers/backends.ts'
import { runMixedLoad, signInBothWays, summarizeLoad, type LoadUser } from '../helpers/mixed-load.ts'
import { dropTestSchema } from '../helpers/postgres.ts'
import { startOwnRedisServer, type OwnRedisServer } from '../helpers/redis.ts'
import { startTesseraProcess, type TesseraProcess } from '../helpers/tessera-process.ts'
import { loadOrCreateMasterKey } from '../../src/storage/master-key.ts'
import { copyFileSync } from 'node:fs'

const skip = await skipUnlessPostgresAndRedis()
const password = 'correct horse battery staple'
const publicUrl = 'http://tessera.test'
const root = mkdtempSync(join(tmpdir(), 'tessera-redis-outage-'))
const schema = uniqueTestName('tessera_redis_outage')
const nodes: TesseraProcess[] = []
let redis: OwnRedisServer | null = null

before(async () => {
  if (skip) return
  redis = await startOwnRedisServer({ isPersistent: true })
  const masterKey = join(root, 'master.key')
  loadOrCreateMasterKey(masterKey)
  const settingsFor = (index: number) => {
    const dir = mkdtempSync(join(root, `node${index}-`))
    copyFileSync(masterKey, join(dir, 'master.key'))
    return {
      TESSERA_DATA_DIR: dir,
      TESSERA_PUBLIC_URL: publicUrl,
      TESSERA_DATABASE_URL: testPostgresUrl,
      TESSERA_DATABASE_SCHEMA: schema,
      TESSERA_DATABASE_MIGRATE_ON_START: 'true',
      TESSERA_REDIS_URL: redis?.url ?? '',
      TESSERA_BACKEND_TIMEOUT: '1s',
      TESSERA_ARGON2_MEMORY_KIB: '12288',
      TESSERA_ARGON2_PASSES: '3',
      TESSERA_LOG_LEVEL: 'error',
    }
  }
  nodes.push(await startTesseraProcess(settingsFor(1)))
  nodes.push(await startTesseraProcess(settingsFor(2)))
})

after(async () => {
  await Promise.all(nodes.map((node) => node.stop()))
  await redis?.stop()
  if (!skip) await dropTestSchema(schema)
  rmSync(root, { recursive: true, force: true })
})

async function readiness(node: TesseraProcess): Promise<number> {
  return (await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(5000) })).status
}

describe('Redis outage under load', { skip }, () => {
  it('answers only successes and quick 503s while Redis is down, accepts no ended session, and recovers within 5 s', async (t) => {
    const [first, second] = nodes
    if (!first || !second || !redis) throw new Error('setup failed')
    const urls = nodes.map((node) => node.url)
    const users: LoadUser[] = []
    for (const index of [1, 2, 3]) {
      const username = `steady${index}`
      assert.equal((await fetch(`${first.url}/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      })).status, 201)
      users.push(await signInBothWays(urls[index % 2] ?? first.url, username, password))
    }
    // Sessions that end before the load: they must stay refused, whatever happens to Redis.
    const ended = await signInBothWays(second.url, 'steady1', password)
    assert.equal((await fetch(`${first.url}/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${ended.accessToken}` } })).status, 204)
    assert.equal((await fetch(`${second.url}/v1/auth/logout`, { method: 'POST', headers: { cookie: ended.cookie, origin: publicUrl } })).status, 204)

    const killAtMs = 1500
    const restartAtMs = 4500
    const readyDuringOutage: number[] = []
    const chaos = (async () => {
      await new Promise((resolve) => setTimeout(resolve, killAtMs))
      await redis.kill()
      await new Promise((resolve) => setTimeout(resolve, 1000))
      readyDuringOutage.push(await readiness(first), await readiness(second))
      await new Promise((resolve) => setTimeout(resolve, restartAtMs - killAtMs - 1000))
      await redis.start()
    })()
    const records = await runMixedLoad({
      nodeUrls: urls,
      users,
      revoked: [ended],
      durationMs: restartAtMs + 6000,
      concurrency: 6,
      requestTimeoutMs: 5000,
      origin: publicUrl,
    })
    await chaos
    t.diagnostic(`answers by kind and status: ${JSON.stringify(summarizeLoad(records))}`)

    // 1. Never a 500, never an answer missing, only success or 503 (401 for ended sessions).
    for (const record of records) {
      const allowed = record.kind === 'me-revoked' ? [401, 503] : [200, 503]
      assert.ok(allowed.includes(record.status), `${record.kind} at ${Math.round(record.sentAtMs)} ms: ${record.status}`)
      if (record.status === 503) {
        assert.equal(record.code, 'service_unavailable')
        assert.ok(record.hasRetryAfter, '503 carries Retry-After')
      }
    }
    // 2. The outage was felt, and answered quickly.
    const unavailable = records.filter((record) => record.status === 503)
    assert.ok(unavailable.length > 0, 'some requests met the outage')
    const slowest = Math.max(...unavailable.map((record) => record.latencyMs))
    t.diagnostic(`503 answers: ${unavailable.length}, slowest ${slowest.toFixed(0)} ms`)
    assert.ok(slowest < 2500, `a 503 took ${slowest.toFixed(0)} ms`)
    assert.deepEqual(readyDuringOutage, [503, 503])
    // 3. Within 5 s of the restart every kind succeeds again, and keeps succeeding.
    const recovered = records.filter((record) => record.sentAtMs > restartAtMs + 5000 && record.kind !== 'me-revoked')
    assert.ok(recovered.length > 0)
    assert.deepEqual(recovered.filter((record) => record.status !== 200).map((record) => `${record.kind}:${record.status}`), [])
    const firstSuccessAfterRestart = Math.min(
      ...records.filter((record) => record.sentAtMs > restartAtMs && record.status === 200).map((record) => record.sentAtMs),
    )
    t.diagnostic(`first success ${(firstSuccessAfterRestart - restartAtMs).toFixed(0)} ms after Redis was started again`)
    assert.deepEqual([await readiness(first), await readiness(second)], [200, 200])
  })
})

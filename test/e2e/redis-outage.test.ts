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
import { runMixedLoad, summarizeLoad } from '../helpers/mixed-load.ts'
import {
  assertOnlySuccessOrUnavailable,
  assertRecoveredWithinFiveSeconds,
  outagePublicUrl,
  prepareLoadUsers,
  readiness,
  startTwoNodes,
} from '../helpers/outage-scene.ts'
import { dropTestSchema } from '../helpers/postgres.ts'
import { startOwnRedisServer, type OwnRedisServer } from '../helpers/redis.ts'
import type { TesseraProcess } from '../helpers/tessera-process.ts'

const skip = await skipUnlessPostgresAndRedis()
const root = mkdtempSync(join(tmpdir(), 'tessera-redis-outage-'))
const schema = uniqueTestName('tessera_redis_outage')
const nodes: TesseraProcess[] = []
let redis: OwnRedisServer | null = null

before(async () => {
  if (skip) return
  redis = await startOwnRedisServer({ isPersistent: true })
  nodes.push(
    ...(await startTwoNodes(root, {
      TESSERA_DATABASE_URL: testPostgresUrl,
      TESSERA_DATABASE_SCHEMA: schema,
      TESSERA_REDIS_URL: redis.url,
    })),
  )
})

after(async () => {
  await Promise.all(nodes.map((node) => node.stop()))
  await redis?.stop()
  if (!skip) await dropTestSchema(schema)
  rmSync(root, { recursive: true, force: true })
})

describe('Redis outage under load', { skip }, () => {
  it('answers only successes and quick 503s while Redis is down, accepts no ended session, and recovers within 5 s', async (t) => {
    const [first, second] = nodes
    if (!first || !second || !redis) throw new Error('setup failed')
    // The ended session must stay refused, whatever happens to Redis.
    const { urls, users, ended } = await prepareLoadUsers(nodes, 'steady')

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
      origin: outagePublicUrl,
    })
    await chaos
    t.diagnostic(`answers by kind and status: ${JSON.stringify(summarizeLoad(records))}`)

    // 1. Never a 500, never an answer missing, only success or 503 (401 for ended sessions).
    assertOnlySuccessOrUnavailable(records)
    // 2. The outage was felt, and answered quickly.
    const unavailable = records.filter((record) => record.status === 503)
    assert.ok(unavailable.length > 0, 'some requests met the outage')
    // Quick: within the backend timeout (1 s), plus what the machine's load adds to any answer,
    // measured in this run as the slowest answer of the healthy time before the kill: once for the
    // request itself and once for those queued before it (1.5 s at least), as postgres-outage.test.ts
    // allows. A request that hung would wait for its 5 s timeout.
    const backendTimeoutMs = 1000
    const healthySlowest = Math.max(
      ...records.filter((record) => record.sentAtMs + record.latencyMs < killAtMs).map((record) => record.latencyMs),
    )
    const allowedMs = backendTimeoutMs + healthySlowest + Math.max(1500, healthySlowest)
    const slowest = Math.max(...unavailable.map((record) => record.latencyMs))
    t.diagnostic(
      `503 answers: ${unavailable.length}, slowest ${slowest.toFixed(0)} ms; slowest healthy answer ${healthySlowest.toFixed(0)} ms`,
    )
    assert.ok(slowest < allowedMs, `a 503 took ${slowest.toFixed(0)} ms, allowed ${allowedMs.toFixed(0)} ms`)
    assert.deepEqual(readyDuringOutage, [503, 503])
    // 3. Within 5 s of the restart every kind succeeds again, and keeps succeeding.
    assertRecoveredWithinFiveSeconds(records, restartAtMs)
    const firstSuccessAfterRestart = Math.min(
      ...records
        .filter((record) => record.sentAtMs > restartAtMs && record.status === 200)
        .map((record) => record.sentAtMs),
    )
    t.diagnostic(
      `first success ${(firstSuccessAfterRestart - restartAtMs).toFixed(0)} ms after Redis was started again`,
    )
    assert.deepEqual([await readiness(first), await readiness(second)], [200, 200])
  })
})

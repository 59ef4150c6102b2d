/**
 * A backend that hangs: the server process stopped with SIGSTOP, so its connections stay open and
 * nothing answers. Every call must fail with `service_unavailable` within the backend timeout,
 * end to end (a wait for a pooled connection, a transaction's statements, a script's fallback
 * all included), and once the process continues the connections must answer each call with its
 * own answer: a reply that was late for one call is never taken for another's.
 *
 * regression: #11 (item 13)
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TesseraError } from '../../src/core/errors.ts'
import { openDatabase } from '../../src/storage/postgres/database.ts'
import { defineRedisScript, openRedisConnection } from '../../src/storage/redis/connection.ts'
import { skipUnlessPostgresServerProgram, skipUnlessRedisServerProgram } from '../helpers/backends.ts'
import { startOwnPostgresServer } from '../helpers/postgres.ts'
import { startOwnRedisServer } from '../helpers/redis.ts'

// Generous beyond the timeout: the machine running the tests is loaded.
const slackMs = 1500
const recoveryLimitMs = 5000

/** Milliseconds until `call` rejects; fails unless it rejects with service_unavailable. */
async function timeRejection(call: () => Promise<unknown>): Promise<number> {
  const startedAt = performance.now()
  await assert.rejects(call, (error: unknown) => error instanceof TesseraError && error.code === 'service_unavailable')
  return performance.now() - startedAt
}

async function waitUntilAnswered(call: () => Promise<unknown>): Promise<number> {
  const startedAt = performance.now()
  for (;;) {
    try {
      await call()
      return performance.now() - startedAt
    } catch {
      assert.ok(performance.now() - startedAt < recoveryLimitMs, `no answer within ${recoveryLimitMs} ms of SIGCONT`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
}

describe('a paused Redis', { skip: skipUnlessRedisServerProgram() }, () => {
  it('fails every call within the backend timeout, and answers each later call with its own reply after SIGCONT', async (t) => {
    const timeoutMs = 1000
    const redis = await startOwnRedisServer()
    t.after(() => redis.stop())
    const settings = { urls: [redis.url], isCluster: false, keyPrefix: 'hang' }
    const connection = await openRedisConnection({ settings, timeoutMs })
    t.after(() => connection.close())
    const echo = defineRedisScript("return 'script:' .. ARGV[1]")
    assert.equal(await connection.runScript<string>(echo, ['hang:k'], ['warm']), 'script:warm')

    redis.pause()
    t.after(() => redis.resume())
    // 1. Calls sent to the silent server: commands, a script (run by SHA, then by source), a
    //    publish and the readiness ping. A second wave follows the first, behind its queue.
    for (const wave of ['first', 'second']) {
      const waits = await Promise.all([
        ...[1, 2, 3].map((index) => timeRejection(() => connection.command(undefined, ['ECHO', `${wave}-${index}`]))),
        timeRejection(() => connection.runScript(echo, ['hang:k'], [wave])),
        timeRejection(() => connection.publish('hang:channel', wave)),
        timeRejection(() => connection.ping()),
      ])
      const slowest = Math.max(...waits)
      t.diagnostic(`${wave} wave: slowest 503 after ${slowest.toFixed(0)} ms (timeout ${timeoutMs} ms)`)
      assert.ok(slowest < timeoutMs + slackMs, `a call waited ${slowest.toFixed(0)} ms`)
      assert.ok(Math.min(...waits) >= timeoutMs - 50, 'calls wait out the timeout, no less')
    }

    // 2. The server continues and answers everything it was sent; each later call gets its own.
    redis.resume()
    const recoveredMs = await waitUntilAnswered(() => connection.ping())
    t.diagnostic(`answering again ${recoveredMs.toFixed(0)} ms after SIGCONT`)
    const labels = Array.from({ length: 40 }, (_, index) => `after-${index}`)
    assert.deepEqual(await Promise.all(labels.map((label) => connection.command(undefined, ['ECHO', label]))), labels)
    assert.equal(await connection.runScript<string>(echo, ['hang:k'], ['after']), 'script:after')
  })
})

describe('a paused PostgreSQL', { skip: skipUnlessPostgresServerProgram() }, () => {
  it('fails every statement and transaction within the backend timeout, pool wait included, and recovers after SIGCONT', async (t) => {
    const timeoutMs = 2000
    const postgres = await startOwnPostgresServer()
    t.after(() => postgres.destroy())
    const database = openDatabase({ url: postgres.url, schema: 'public', poolSize: 2, timeoutMs })
    t.after(() => database.close())
    // Both pooled connections open and idle.
    await Promise.all([database.query('SELECT pg_sleep(0.05)'), database.query('SELECT pg_sleep(0.05)')])

    postgres.pause()
    t.after(() => postgres.resume())
    // 1. Two transactions take both connections; four more calls wait for one in the pool.
    const waits = await Promise.all([
      ...[1, 2].map(() => timeRejection(() => database.transaction(async (tx) => tx.query('SELECT 1')))),
      ...[1, 2, 3, 4].map(() => timeRejection(() => database.query('SELECT 1'))),
    ])
    const slowest = Math.max(...waits)
    t.diagnostic(`slowest 503 after ${slowest.toFixed(0)} ms (timeout ${timeoutMs} ms)`)
    assert.ok(slowest < timeoutMs + slackMs, `a call waited ${slowest.toFixed(0)} ms`)

    // 2. A new connection to the paused server (the pool replaced the ones that timed out).
    const connecting = await timeRejection(() => database.query('SELECT 1'))
    assert.ok(connecting < timeoutMs + slackMs, `a call waited ${connecting.toFixed(0)} ms for a connection`)

    // 3. After SIGCONT every call gets its own answer again.
    postgres.resume()
    const recoveredMs = await waitUntilAnswered(() => database.query('SELECT 1'))
    t.diagnostic(`answering again ${recoveredMs.toFixed(0)} ms after SIGCONT`)
    const labels = Array.from({ length: 20 }, (_, index) => `after-${index}`)
    const rows = await Promise.all(labels.map((label) => database.query('SELECT $1::text AS label', [label])))
    assert.deepEqual(
      rows.map((row) => row[0]?.label),
      labels,
    )
    assert.deepEqual(await database.transaction((tx) => tx.query('SELECT 2 AS two')), [{ two: 2 }])
  })
})

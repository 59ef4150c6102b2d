/**
 * ER-03 with PostgreSQL: two Tessera processes hold everything in PostgreSQL (no Redis), reached
 * through a TCP proxy this test controls. Under a load of mixed sign-ins and `/v1/me` calls the
 * database first hangs (connections open, no byte through), then refuses connections, then comes
 * back. Throughout, answers are successes or 503 with Retry-After within the backend timeout
 * (never a hang, never a 500, never an ended session accepted), and the nodes serve again
 * within 5 s of the database's return, with no restart.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { skipUnlessPostgres, testPostgresUrl, uniqueTestName } from '../helpers/backends.ts'
import { runMixedLoad, summarizeLoad, type LoadRecord } from '../helpers/mixed-load.ts'
import {
  assertOnlySuccessOrUnavailable,
  assertRecoveredWithinFiveSeconds,
  outagePublicUrl,
  prepareLoadUsers,
  readiness,
  startTwoNodes,
} from '../helpers/outage-scene.ts'
import { dropTestSchema } from '../helpers/postgres.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'
import type { TesseraProcess } from '../helpers/tessera-process.ts'

const skip = await skipUnlessPostgres()
const root = mkdtempSync(join(tmpdir(), 'tessera-pg-outage-'))
const schema = uniqueTestName('tessera_pg_outage')
const nodes: TesseraProcess[] = []
let proxy: TcpProxy | null = null

before(async () => {
  if (skip) return
  const target = new URL(testPostgresUrl)
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const proxiedUrl = new URL(testPostgresUrl)
  proxiedUrl.hostname = '127.0.0.1'
  proxiedUrl.port = String(proxy.port)
  nodes.push(
    ...(await startTwoNodes(root, { TESSERA_DATABASE_URL: proxiedUrl.toString(), TESSERA_DATABASE_SCHEMA: schema })),
  )
})

after(async () => {
  await Promise.all(nodes.map((node) => node.stop()))
  await proxy?.close()
  if (!skip) await dropTestSchema(schema)
  rmSync(root, { recursive: true, force: true })
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('PostgreSQL outage under load', { skip }, () => {
  it('answers only successes and bounded 503s while the database hangs or refuses, and recovers within 5 s', async (t) => {
    const [first, second] = nodes
    if (!first || !second || !proxy) throw new Error('setup failed')
    const { urls, users, ended } = await prepareLoadUsers(nodes, 'anchor')

    const stallAtMs = 1500
    const refuseAtMs = 4000
    const restoreAtMs = 6500
    const readyWhileDown: number[] = []
    const chaos = (async () => {
      await sleep(stallAtMs)
      proxy.stall()
      await sleep(refuseAtMs - stallAtMs)
      await proxy.refuse()
      readyWhileDown.push(await readiness(first), await readiness(second))
      await sleep(restoreAtMs - refuseAtMs)
      await proxy.restore()
    })()
    const records = await runMixedLoad({
      nodeUrls: urls,
      users,
      revoked: [ended],
      durationMs: restoreAtMs + 6500,
      concurrency: 6,
      requestTimeoutMs: 8000,
      origin: outagePublicUrl,
    })
    await chaos
    t.diagnostic(`answers by kind and status: ${JSON.stringify(summarizeLoad(records))}`)

    assertOnlySuccessOrUnavailable(records)
    const unavailable = records.filter((record) => record.status === 503)
    // A request in flight when the database hangs is part of the hang, even if sent just before:
    // with every worker waiting out its timeout, few requests are sent during the hang itself.
    const duringStall = unavailable.filter(
      (record) => record.sentAtMs < refuseAtMs && record.sentAtMs + record.latencyMs >= stallAtMs,
    )
    const duringRefusal = unavailable.filter((record) => record.sentAtMs >= refuseAtMs && record.sentAtMs < restoreAtMs)
    assert.ok(duringStall.length > 0 && duringRefusal.length > 0, 'both kinds of outage were felt')
    // A hung database costs a request one backend timeout (1 s), for the call it fails at: the
    // timeout bounds a call from the wait for a pooled connection to its last answer, and what is
    // undone after an outage (an unissued session, a throttle charge) is not waited for. The cost
    // is counted from the start of the hang for a request sent before it. Such a request may
    // still have its own work to do in the hang (a sign-in's password hash): at most what the
    // slowest answer of the healthy time before the hang took. On top goes what the machine's
    // load adds to any answer, measured the same way (2 s at least).
    const backendTimeoutMs = 1000
    const healthySlowest = Math.max(
      ...records.filter((record) => record.sentAtMs + record.latencyMs < stallAtMs).map((record) => record.latencyMs),
    )
    const allowedMs = backendTimeoutMs + healthySlowest + Math.max(2000, healthySlowest)
    const costOf = (record: LoadRecord) => record.sentAtMs + record.latencyMs - Math.max(record.sentAtMs, stallAtMs)
    const slowest = [...unavailable].sort((one, other) => costOf(other) - costOf(one))
    const worst = slowest[0]
    if (!worst) throw new Error('no 503 answers')
    t.diagnostic(
      `503 answers: ${unavailable.length} (hang ${duringStall.length}, refusal ${duringRefusal.length}), the costliest ${costOf(worst).toFixed(0)} ms of the outage; slowest healthy answer ${healthySlowest.toFixed(0)} ms`,
    )
    const describe503 = (record: LoadRecord) =>
      `${record.kind} sent at ${record.sentAtMs.toFixed(0)} ms: ${record.latencyMs.toFixed(0)} ms, ${costOf(record).toFixed(0)} ms of it in the outage`
    t.diagnostic(`slowest 503 answers: ${slowest.slice(0, 5).map(describe503).join('; ')}`)
    assert.ok(costOf(worst) < allowedMs, `a 503 cost ${describe503(worst)}; allowed ${allowedMs.toFixed(0)} ms`)
    assert.deepEqual(readyWhileDown, [503, 503])

    assertRecoveredWithinFiveSeconds(records, restoreAtMs)
    const firstSuccess = Math.min(
      ...records
        .filter((record) => record.sentAtMs > restoreAtMs && record.status === 200 && record.kind === 'login')
        .map((record) => record.sentAtMs),
    )
    t.diagnostic(`first login ${(firstSuccess - restoreAtMs).toFixed(0)} ms after the database came back`)
    assert.deepEqual([await readiness(first), await readiness(second)], [200, 200])
  })
})

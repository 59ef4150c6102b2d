/**
 * A PostgreSQL server stopped under load, the two ways `pg_ctl stop` does it: `-m fast` (every
 * session ended, a checkpoint written) and `-m immediate` (every process quits at once), ten times
 * each, then started again. Connections die in the middle of transactions, between their
 * statements, and idle in the pool. The Tessera node must never exit: while the database is away
 * it answers 503 problem+json with Retry-After, and it serves again within 5 s of each restart
 * with no restart of its own. The LISTEN/NOTIFY invalidation bus goes through the same stops and
 * must carry messages again within the same 5 s.
 *
 * regression: #11 (item 12)
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import type { Invalidation } from '../../src/core/invalidation/bus.ts'
import { openDatabase } from '../../src/storage/postgres/database.ts'
import {
  openPostgresInvalidationBus,
  type PostgresInvalidationBus,
} from '../../src/storage/postgres/invalidation-bus.ts'
import { skipUnlessPostgresServerProgram } from '../helpers/backends.ts'
import { startOwnPostgresServer, type OwnPostgresServer } from '../helpers/postgres.ts'
import { startTesseraProcess, type TesseraProcess } from '../helpers/tessera-process.ts'

const skip = skipUnlessPostgresServerProgram()
const password = 'correct horse battery staple'
const stopsPerMode = 10
const recoveryLimitMs = 5000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Answer {
  status: number
  code: string | null
  hasRetryAfter: boolean
  isProblem: boolean
}

/**
 * How long a client waits before it counts a request as unanswered. A node that hangs never
 * answers; one that is up answers within the backend timeout plus a sign-in's password hash,
 * which a machine busy with other test files can stretch to seconds.
 */
const unansweredAfterMs = 15_000

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(unansweredAfterMs) })
    const text = await response.text()
    let code: string | null = null
    try {
      code = (JSON.parse(text) as { code?: string }).code ?? null
    } catch {
      code = null
    }
    return {
      status: response.status,
      code,
      hasRetryAfter: response.headers.has('retry-after'),
      isProblem: (response.headers.get('content-type') ?? '').startsWith('application/problem+json'),
    }
  } catch {
    // No answer at all: the node is gone, or hangs.
    return { status: 0, code: null, hasRetryAfter: false, isProblem: false }
  }
}

function signIn(node: TesseraProcess, username: string): Promise<Response> {
  return fetch(`${node.url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
    signal: AbortSignal.timeout(5000),
  })
}

/** Sign-ins (throttle, session and audit writes, in transactions) and bearer reads until stopped. */
function startLoad(node: TesseraProcess, users: Array<{ username: string; accessToken: string }>) {
  const answers: Array<Answer & { what: string }> = []
  let isRunning = true
  const worker = async (index: number) => {
    for (let step = index; isRunning; step += 1) {
      const user = users[step % users.length]
      if (!user) throw new Error('no users')
      const answer =
        step % 2 === 0
          ? await send(`${node.url}/v1/auth/login`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ username: user.username, password }),
            })
          : await send(`${node.url}/v1/me`, { headers: { authorization: `Bearer ${user.accessToken}` } })
      answers.push({ what: step % 2 === 0 ? 'login' : 'me', ...answer })
      // A client told to retry later waits a little, as real ones do (and the machine is shared).
      if (answer.status !== 200) await sleep(25)
    }
  }
  const workers = Promise.all([0, 1, 2, 3].map(worker))
  return {
    answers,
    async stop() {
      isRunning = false
      await workers
    },
  }
}

async function openTwoBuses(t: TestContext, postgres: OwnPostgresServer) {
  const backgroundErrors: unknown[] = []
  const database = openDatabase({ url: postgres.url, schema: 'public', poolSize: 2, timeoutMs: 1000 })
  const open = () =>
    openPostgresInvalidationBus({
      database,
      url: postgres.url,
      schema: 'public',
      timeoutMs: 1000,
      onError: (error) => backgroundErrors.push(error),
    })
  const buses: PostgresInvalidationBus[] = [await open(), await open()]
  const received: Invalidation[] = []
  buses[1]?.subscribe({ onInvalidation: (message) => void received.push(message), onReset: () => {} })
  t.after(async () => {
    for (const bus of buses) await bus.close()
    await database.close()
  })
  return { buses, received, backgroundErrors }
}

describe('PostgreSQL stopped under load', { skip }, () => {
  it('the node stays up through ten fast and ten immediate stops and serves again within 5 s of each restart', async (t) => {
    const postgres = await startOwnPostgresServer()
    t.after(() => postgres.destroy())
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-pg-restart-'))
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const node = await startTesseraProcess({
      TESSERA_DATA_DIR: dataDir,
      TESSERA_DATABASE_URL: postgres.url,
      TESSERA_DATABASE_MIGRATE_ON_START: 'true',
      TESSERA_BACKEND_TIMEOUT: '1s',
      TESSERA_ARGON2_MEMORY_KIB: '12288',
      TESSERA_ARGON2_PASSES: '3',
      TESSERA_LOG_LEVEL: 'fatal',
    })
    t.after(() => node.stop())
    const { buses, received, backgroundErrors } = await openTwoBuses(t, postgres)

    const users: Array<{ username: string; accessToken: string }> = []
    for (const username of ['restart1', 'restart2', 'restart3']) {
      const registered = await fetch(`${node.url}/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      })
      assert.equal(registered.status, 201)
      const signedIn = await signIn(node, username)
      assert.equal(signedIn.status, 200)
      users.push({ username, accessToken: ((await signedIn.json()) as { access_token: string }).access_token })
    }

    const load = startLoad(node, users)
    const recoveries: Record<'fast' | 'immediate', number[]> = { fast: [], immediate: [] }
    const busRecoveries: number[] = []
    try {
      for (const mode of ['fast', 'immediate'] as const) {
        for (let stop = 1; stop <= stopsPerMode; stop += 1) {
          // 1. Let the load open transactions, then take the database away under them.
          await sleep(300)
          await postgres.stop(mode)
          await sleep(200)
          const alive = await send(`${node.url}/healthz`)
          assert.equal(alive.status, 200, `the node answers after stop ${stop} (-m ${mode}):\n${node.stderr()}`)
          // 2. Start it again: the node must serve within 5 s, sign-ins included.
          await postgres.start()
          const restartedAt = performance.now()
          while ((await signIn(node, users[0]?.username ?? '').catch(() => null))?.status !== 200) {
            assert.ok(
              performance.now() - restartedAt < recoveryLimitMs,
              `no sign-in within 5 s of restart ${stop} (-m ${mode}):\n${node.stderr()}`,
            )
            await sleep(50)
          }
          recoveries[mode].push(Math.round(performance.now() - restartedAt))
          assert.equal((await send(`${node.url}/readyz`)).status, 200)
          // 3. The bus carries messages again.
          const marker = `${mode}-${stop}`
          while (!received.some((message) => message.kind === 'session' && message.sessionId === marker)) {
            assert.ok(
              performance.now() - restartedAt < recoveryLimitMs,
              `the bus carries no message within 5 s of restart ${stop} (-m ${mode})`,
            )
            if (buses.every((bus) => bus.isConnected())) await buses[0]?.publish({ kind: 'session', sessionId: marker })
            await sleep(50)
          }
          busRecoveries.push(Math.round(performance.now() - restartedAt))
        }
      }
    } finally {
      await load.stop()
    }

    t.diagnostic(`first sign-in after a fast stop, ms: ${recoveries.fast.join(' ')}`)
    t.diagnostic(`first sign-in after an immediate stop, ms: ${recoveries.immediate.join(' ')}`)
    t.diagnostic(
      `bus carrying messages again, ms: ${busRecoveries.join(' ')} (${backgroundErrors.length} connection errors reported)`,
    )
    const byStatus: Record<string, number> = {}
    for (const answer of load.answers)
      byStatus[`${answer.what} ${answer.status}`] = (byStatus[`${answer.what} ${answer.status}`] ?? 0) + 1
    t.diagnostic(`answers under load: ${JSON.stringify(byStatus)}`)
    // Every answer is a success or a 503 problem document that says when to retry.
    for (const answer of load.answers) {
      if (answer.status === 200) continue
      assert.equal(answer.status, 503, `${answer.what} answered ${answer.status}`)
      assert.equal(answer.code, 'service_unavailable')
      assert.ok(answer.isProblem && answer.hasRetryAfter, '503 is problem+json with Retry-After')
    }
    assert.ok(
      load.answers.some((answer) => answer.status === 503),
      'the load met the stopped database',
    )
  })
})

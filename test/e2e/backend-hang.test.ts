/**
 * A backend that hangs under a running node (sessions in Redis, the rest in PostgreSQL, both of
 * the test's own): the Redis, then the PostgreSQL processes stopped with SIGSTOP (connected, silent). With TESSERA_BACKEND_TIMEOUT at 1 s, every request that needs the hung
 * backend, `/readyz` included, answers 503 problem+json with Retry-After within about that
 * second (a loaded machine gets 2 s more), in the first wave and in the ones queued behind it;
 * after SIGCONT the node serves again within 5 s, with no restart.
 *
 * regression: #11 (item 13)
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { skipUnlessPostgresServerProgram, skipUnlessRedisServerProgram } from '../helpers/backends.ts'
import { startOwnPostgresServer, type OwnPostgresServer } from '../helpers/postgres.ts'
import { startOwnRedisServer, type OwnRedisServer } from '../helpers/redis.ts'
import { startTesseraProcess, type TesseraProcess } from '../helpers/tessera-process.ts'

const password = 'correct horse battery staple'
const timeoutMs = 1000
const answerLimitMs = timeoutMs + 2000
const recoveryLimitMs = 5000

interface Answer {
  what: string
  status: number
  code: string | null
  hasRetryAfter: boolean
  isProblem: boolean
  latencyMs: number
}

async function send(what: string, url: string, init: RequestInit = {}): Promise<Answer> {
  const startedAt = performance.now()
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) })
    const text = await response.text()
    let code: string | null = null
    try {
      code = (JSON.parse(text) as { code?: string }).code ?? null
    } catch {
      code = null
    }
    return {
      what,
      status: response.status,
      code,
      hasRetryAfter: response.headers.has('retry-after'),
      isProblem: (response.headers.get('content-type') ?? '').startsWith('application/problem+json'),
      latencyMs: performance.now() - startedAt,
    }
  } catch {
    return {
      what,
      status: 0,
      code: null,
      hasRetryAfter: false,
      isProblem: false,
      latencyMs: performance.now() - startedAt,
    }
  }
}

const signIn = (node: TesseraProcess, username: string) =>
  send('login', `${node.url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })

async function registerAndSignIn(node: TesseraProcess, usernames: string[]): Promise<string[]> {
  const tokens: string[] = []
  for (const username of usernames) {
    const registered = await fetch(`${node.url}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    })
    assert.equal(registered.status, 201)
    const response = await fetch(`${node.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    })
    assert.equal(response.status, 200)
    tokens.push(((await response.json()) as { access_token: string }).access_token)
  }
  return tokens
}

/**
 * Pauses the backend, sends two waves of requests (the second once the first has timed out and
 * the invalidation bus has fallen silent, so no copy of a session answers for the store), checks
 * every answer, resumes it and returns how long the node took to sign someone in again.
 */
async function checkHang(
  t: TestContext,
  node: TesseraProcess,
  usernames: string[],
  tokens: string[],
  backend: { pause(): void; resume(): void },
): Promise<void> {
  backend.pause()
  t.after(() => backend.resume())
  for (const wave of ['first', 'second']) {
    const answers = await Promise.all([
      send('readyz', `${node.url}/readyz`),
      ...usernames.map((username) => signIn(node, username)),
      ...tokens.map((token) => send('me', `${node.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })),
    ])
    t.diagnostic(
      `${wave} wave: ${answers.map((answer) => `${answer.what} ${answer.status} in ${answer.latencyMs.toFixed(0)} ms`).join(', ')}`,
    )
    for (const answer of answers) {
      assert.ok(answer.latencyMs < answerLimitMs, `${answer.what} took ${answer.latencyMs.toFixed(0)} ms`)
      // A bearer request may be answered from the node's copy of the session while it is fresh.
      if (answer.what === 'me' && answer.status === 200) continue
      assert.equal(answer.status, 503, `${answer.what} answered ${answer.status}`)
      assert.equal(answer.code, 'service_unavailable')
      assert.ok(answer.isProblem && answer.hasRetryAfter, `${answer.what}: problem+json with Retry-After`)
    }
    assert.ok(answers.some((answer) => answer.what === 'login' && answer.status === 503))
    // The bus notices the silence after 1.5 s; by then the node trusts no copy.
    if (wave === 'first') await new Promise((resolve) => setTimeout(resolve, 1000))
  }

  backend.resume()
  const resumedAt = performance.now()
  while ((await signIn(node, usernames[0] ?? '')).status !== 200) {
    assert.ok(performance.now() - resumedAt < recoveryLimitMs, `no sign-in within ${recoveryLimitMs} ms of SIGCONT`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.diagnostic(`first sign-in ${(performance.now() - resumedAt).toFixed(0)} ms after SIGCONT`)
  assert.equal((await send('readyz', `${node.url}/readyz`)).status, 200)
  for (const token of tokens) {
    assert.equal((await send('me', `${node.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
  }
}

const skip = skipUnlessRedisServerProgram() || skipUnlessPostgresServerProgram()
const usernames = ['hung1', 'hung2', 'hung3']
let postgres: OwnPostgresServer | null = null
let redis: OwnRedisServer | null = null
let node: TesseraProcess | null = null
let tokens: string[] = []
const dataDir = mkdtempSync(join(tmpdir(), 'tessera-hang-'))

describe('a hung backend', { skip }, () => {
  before(async () => {
    postgres = await startOwnPostgresServer()
    redis = await startOwnRedisServer()
    node = await startTesseraProcess({
      TESSERA_DATA_DIR: dataDir,
      TESSERA_DATABASE_URL: postgres.url,
      TESSERA_DATABASE_MIGRATE_ON_START: 'true',
      // Fewer connections than requests: some wait for one, and the wait counts.
      TESSERA_DATABASE_POOL_SIZE: '2',
      TESSERA_REDIS_URL: redis.url,
      TESSERA_BACKEND_TIMEOUT: `${timeoutMs}ms`,
      TESSERA_ARGON2_MEMORY_KIB: '12288',
      TESSERA_ARGON2_PASSES: '3',
      TESSERA_LOG_LEVEL: 'fatal',
    })
    tokens = await registerAndSignIn(node, usernames)
  })

  after(async () => {
    await node?.stop()
    await redis?.stop()
    await postgres?.destroy()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('a hung Redis: every request that needs it answers 503 within the backend timeout, and the node serves again after SIGCONT', async (t) => {
    if (!node || !redis) throw new Error('setup failed')
    await checkHang(t, node, usernames, tokens, redis)
  })

  it('a hung PostgreSQL: every request that needs it answers 503 within the backend timeout, and the node serves again after SIGCONT', async (t) => {
    if (!node || !postgres) throw new Error('setup failed')
    await checkHang(t, node, usernames, tokens, postgres)
  })
})

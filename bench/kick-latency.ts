/**
 * Kick latency of the example game server: 1,000 players connected over WebSocket (each with a
 * ticket, one session each), then every session ended through Tessera (a logout, as a kick or a
 * sign-in elsewhere would end it); measured from the answer of the ending request to the close
 * of the player's socket, which the game server does on the event stream's `session_ended`.
 *
 *   1. one Tessera node on SQLite, the game server following it;
 *   2. three Tessera nodes on PostgreSQL + Redis, sessions ended on nodes 1 and 2, the game server
 *      following node 3 (skipped when PostgreSQL or Redis is not reachable).
 *
 * Target: p99 <= 1 s and no socket left open. Usage: node bench/kick-latency.ts [--json]. Env:
 * BENCH_PLAYERS (default 1000), BENCH_DATABASE_URL, BENCH_REDIS_URL. Takes a minute or two
 * (1,000 argon2 sign-ins per scenario), so it is not part of `npm run bench`.
 */
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import WebSocket from 'ws'
import { buildRealtimeGameServer } from '../examples/game-server/realtime-server.ts'
import { loadOrCreateMasterKey } from '../src/storage/master-key.ts'
import { openRedisConnection } from '../src/storage/redis/connection.ts'
import { createVerifier } from '../src/verifier/index.ts'
import { startTesseraProcess, type TesseraProcess } from '../test/helpers/tessera-process.ts'

const isJson = process.argv.includes('--json')
const playerCount = Number(process.env.BENCH_PLAYERS ?? '1000')
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const password = 'correct horse battery staple'
const audience = 'bench.game'
const usersCount = Math.max(1, Math.ceil(playerCount / 20))
const missedAfterMs = 5000

interface Result {
  scenario: string
  players: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  missed: number
  meetsTarget: boolean
}

async function call(base: string, path: string, init: { method?: string; body?: unknown; bearer?: string } = {}) {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.bearer ? { authorization: `Bearer ${init.bearer}` } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  const text = await response.text()
  if (response.status >= 300) throw new Error(`${path} answered ${response.status}: ${text}`)
  return text === '' ? null : (JSON.parse(text) as Record<string, any>)
}

async function inBatches<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++
        results[index] = await work(items[index] as T, index)
      }
    }),
  )
  return results
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * fraction) - 1)] ?? NaN
}

async function measure(scenario: string, nodes: readonly TesseraProcess[]): Promise<Result> {
  const first = nodes[0]
  const followed = nodes[nodes.length - 1]
  if (!first || !followed) throw new Error('no node')
  const admin = await call(first.url, '/v1/auth/login', { body: { username: 'root', password } })
  const client = await call(first.url, '/v1/admin/clients', {
    body: { name: `bench-${randomBytes(3).toString('hex')}` },
    bearer: admin?.access_token,
  })
  const verifier = createVerifier({
    issuer: 'http://tessera.bench',
    audience: 'http://tessera.bench',
    jwksUrl: `${followed.url}/.well-known/jwks.json`,
    revocationStream: {
      clientId: client?.client_id,
      clientSecret: client?.client_secret,
      url: `${followed.url}/v1/events/stream`,
      onSessionEnded: (ended) => game.endSession(ended),
    },
  })
  const game = buildRealtimeGameServer({
    tessera: { url: followed.url, clientId: client?.client_id, clientSecret: client?.client_secret, audience },
    verifier,
  })
  await new Promise<void>((resolve) => game.server.listen(0, '127.0.0.1', resolve))
  await verifier.revocationsReady()
  const address = game.server.address()
  const wsUrl = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/play`

  const usernames = Array.from(
    { length: usersCount },
    (_unused, index) => `bench${index}_${randomBytes(3).toString('hex')}`,
  )
  await inBatches(usernames, 8, (username) => call(first.url, '/v1/auth/register', { body: { username, password } }))
  const sessions = await inBatches(
    Array.from({ length: playerCount }, (_unused, index) => index),
    16,
    async (index) =>
      call(nodes[index % nodes.length]?.url ?? first.url, '/v1/auth/login', {
        body: { username: usernames[index % usersCount], password },
      }),
  )
  const sockets = await inBatches(sessions, 50, async (session) => {
    const ticket = await call(followed.url, '/v1/tickets', { body: { audience }, bearer: session?.access_token })
    const socket = new WebSocket(wsUrl)
    await new Promise((resolve, reject) => {
      socket.once('error', reject)
      socket.once('open', () => socket.send(JSON.stringify({ type: 'hello', ticket: ticket?.ticket })))
      socket.once('message', resolve)
    })
    return socket
  })
  process.stderr.write(`${scenario}: ${game.playerCount()} players connected\n`)

  const latencies: number[] = []
  let missed = 0
  await inBatches(sessions, 20, async (session, index) => {
    const socket = sockets[index]
    if (!socket) throw new Error('no socket')
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())))
    // Sessions end on nodes other than the one the game server follows, when there are several.
    const ender = nodes[index % Math.max(1, nodes.length - 1)] ?? first
    await call(ender.url, '/v1/auth/logout', { method: 'POST', bearer: session?.access_token })
    const answeredAt = performance.now()
    const closedAt = await Promise.race([
      closed,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), missedAfterMs)),
    ])
    if (closedAt === null) missed += 1
    else latencies.push(Math.max(0, closedAt - answeredAt))
  })
  await game.close()
  const sorted = latencies.sort((a, b) => a - b)
  const p99Ms = percentile(sorted, 0.99)
  return {
    scenario,
    players: playerCount,
    p50Ms: percentile(sorted, 0.5),
    p99Ms,
    maxMs: sorted.at(-1) ?? NaN,
    missed,
    meetsTarget: missed === 0 && p99Ms <= 1000,
  }
}

function baseSettings(dir: string, passwordFile: string): Record<string, string> {
  return {
    TESSERA_DATA_DIR: dir,
    TESSERA_PUBLIC_URL: 'http://tessera.bench',
    TESSERA_ARGON2_MEMORY_KIB: '12288',
    TESSERA_ARGON2_PASSES: '3',
    TESSERA_BOOTSTRAP_ADMIN_USERNAME: 'root',
    TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: passwordFile,
    TESSERA_LOG_LEVEL: 'error',
  }
}

async function isReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.end()
    const redis = await openRedisConnection({
      settings: { urls: [redisUrl], isCluster: false, keyPrefix: 'bench-probe' },
      timeoutMs: 2000,
    })
    await redis.close()
    return true
  } catch {
    await client.end().catch(() => {})
    return false
  }
}

const root = mkdtempSync(join(tmpdir(), 'tessera-kick-bench-'))
const passwordFile = join(root, 'admin-password')
writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 })
const results: Result[] = []
try {
  const single = await startTesseraProcess(baseSettings(mkdtempSync(join(root, 'single-')), passwordFile))
  try {
    results.push(await measure('1 node, SQLite', [single]))
  } finally {
    await single.stop()
  }
  if (await isReachable()) {
    const schema = `kick_bench_${randomBytes(4).toString('hex')}`
    const keyPrefix = `kick-bench-${randomBytes(4).toString('hex')}`
    const masterKey = join(root, 'master.key')
    loadOrCreateMasterKey(masterKey)
    const settingsFor = (index: number) => {
      const dir = mkdtempSync(join(root, `node${index}-`))
      copyFileSync(masterKey, join(dir, 'master.key'))
      return {
        ...baseSettings(dir, passwordFile),
        TESSERA_DATABASE_URL: databaseUrl,
        TESSERA_DATABASE_SCHEMA: schema,
        TESSERA_DATABASE_MIGRATE_ON_START: 'true',
        TESSERA_REDIS_URL: redisUrl,
        TESSERA_REDIS_KEY_PREFIX: keyPrefix,
      }
    }
    const nodes: TesseraProcess[] = []
    try {
      nodes.push(await startTesseraProcess(settingsFor(1)))
      nodes.push(...(await Promise.all([startTesseraProcess(settingsFor(2)), startTesseraProcess(settingsFor(3))])))
      results.push(await measure('3 nodes, PostgreSQL + Redis', nodes))
    } finally {
      await Promise.all(nodes.map((node) => node.stop()))
      const client = new pg.Client({ connectionString: databaseUrl })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await client.end()
      const redis = await openRedisConnection({
        settings: { urls: [redisUrl], isCluster: false, keyPrefix },
        timeoutMs: 2000,
      })
      const keys = await redis.scanKeys(`${keyPrefix}:*`)
      await Promise.all(keys.map((key) => redis.command(key, ['DEL', key])))
      await redis.close()
    }
  } else {
    process.stderr.write('PostgreSQL or Redis not reachable: the three-node scenario is skipped\n')
  }
} finally {
  rmSync(root, { recursive: true, force: true })
}

if (isJson) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
} else {
  for (const result of results) {
    process.stdout.write(
      `${result.scenario}: ${result.players} players, kick to socket closed p50 ${result.p50Ms.toFixed(1)} ms, ` +
        `p99 ${result.p99Ms.toFixed(1)} ms, max ${result.maxMs.toFixed(1)} ms, missed ${result.missed} ` +
        `(target p99 <= 1000 ms, none missed: ${result.meetsTarget ? 'ok' : 'MISS'})\n`,
    )
  }
}
process.exit(0)

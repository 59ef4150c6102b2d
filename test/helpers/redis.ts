/**
 * Redis for tests: each opening uses its own key prefix (deleted on close) on the shared Redis,
 * or a Redis the test starts itself (a single server or a cluster of three masters) on free
 * loopback ports, stopped when the test ends.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, type TestContext } from 'node:test'
import { promisify } from 'node:util'
import type { RedisSettings } from '../../src/config/backends.ts'
import type { BackendStores } from '../../src/core/stores.ts'
import { openRedisConnection, type RedisConnection } from '../../src/storage/redis/connection.ts'
import { createRedisRefreshTokenStore } from '../../src/storage/redis/refresh-tokens.ts'
import { createRedisSchedulerLockStore } from '../../src/storage/redis/scheduler-leases.ts'
import { createRedisSessionStore } from '../../src/storage/redis/sessions.ts'
import { createRedisThrottleStore } from '../../src/storage/redis/throttles.ts'
import { createRedisSessionDataStore } from '../../src/storage/redis/session-data.ts'
import { createRedisTicketStore } from '../../src/storage/redis/tickets.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'
import { testRedisUrl, uniqueTestName } from './backends.ts'

const run = promisify(execFile)

export function createTestRedisSettings(overrides: Partial<RedisSettings> = {}): RedisSettings {
  return { urls: [testRedisUrl], isCluster: false, keyPrefix: uniqueTestName('tessera-test'), ...overrides }
}

/** Deletes every key of a test prefix. */
export async function deleteTestKeys(connection: RedisConnection, keyPrefix: string): Promise<void> {
  const keys = await connection.scanKeys(`${keyPrefix}:*`)
  // One key per command: in a cluster, keys of one DEL must share a slot.
  await Promise.all(keys.map((key) => connection.command(key, ['DEL', key])))
}

/**
 * A connection to look at the keys of a test prefix; when the test ends, the prefix's keys are
 * deleted and the connection closed.
 */
export async function openCleanedRedisPrefix(t: TestContext, settings: RedisSettings): Promise<RedisConnection> {
  const connection = await openRedisConnection({ settings, timeoutMs: 2000 })
  t.after(async () => {
    await deleteTestKeys(connection, settings.keyPrefix)
    await connection.close()
  })
  return connection
}

/**
 * Durable stores in an in-memory SQLite; sessions, refresh tokens, throttles and scheduler leases
 * in Redis under a fresh prefix.
 */
export async function openTestRedisStores(
  settings: RedisSettings,
  now: Date,
): Promise<BackendStores & { connection: RedisConnection; keyPrefix: string }> {
  const connection = await openRedisConnection({ settings, timeoutMs: 5000 })
  const durable = openSqliteStores(':memory:', now)
  return {
    connection,
    keyPrefix: settings.keyPrefix,
    ...durable,
    sessions: createRedisSessionStore(connection, settings.keyPrefix),
    refreshTokens: createRedisRefreshTokenStore(connection, settings.keyPrefix),
    throttles: createRedisThrottleStore(connection, settings.keyPrefix),
    sessionData: createRedisSessionDataStore(connection, settings.keyPrefix),
    tickets: createRedisTicketStore(connection, settings.keyPrefix),
    schedulerLocks: createRedisSchedulerLockStore(connection, settings.keyPrefix),
    checkHealth: () => connection.ping(),
    async close() {
      await deleteTestKeys(connection, settings.keyPrefix)
      await connection.close()
      await durable.close()
    },
  }
}

/** A port free right now on 127.0.0.1. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function ping(port: number): Promise<boolean> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'PING'], { timeout: 1000 })
  return stdout.trim() === 'PONG'
}

export interface OwnRedisServer {
  port: number
  url: string
  /** Kills the server at once (SIGKILL): connections drop, nothing is flushed. */
  kill(): Promise<void>
  /** Starts it again on the same port with the same data directory. */
  start(): Promise<void>
  /** SIGSTOP: connections stay open and nothing answers (a hung server). */
  pause(): void
  /** SIGCONT after `pause()`. */
  resume(): void
  stop(): Promise<void>
}

/**
 * A redis-server of the test's own. With `isPersistent`, every write is appended and fsynced
 * before it is acknowledged, so a killed and restarted server still holds what it acknowledged.
 */
export async function startOwnRedisServer(options: { isPersistent?: boolean } = {}): Promise<OwnRedisServer> {
  const port = await findFreePort()
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'))
  const persistence = options.isPersistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']
  let child: ChildProcess | null = null

  async function start(): Promise<void> {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...persistence],
      {
        stdio: 'ignore',
      },
    )
    await waitFor(() => ping(port), 10_000, `redis-server on port ${port}`)
  }

  async function kill(): Promise<void> {
    const running = child
    child = null
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGKILL')
    await exited
  }

  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async stop() {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface OwnRedisCluster {
  ports: number[]
  urls: string[]
  stop(): Promise<void>
}

/** Three masters (no replicas) on free ports, slots spread by redis-cli, state ok. */
export async function startOwnRedisCluster(): Promise<OwnRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-cluster-'))
  const ports: number[] = []
  for (let index = 0; index < 3; index += 1) {
    let port = await findFreePort()
    // The cluster bus listens on port + 10000: both must be free.
    while (port > 55_000) port = await findFreePort()
    ports.push(port)
  }
  const children = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    ),
  )
  const stop = async () => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null) return undefined
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGKILL')
        return exited
      }),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const port of ports) await waitFor(() => ping(port), 10_000, `redis-server on port ${port}`)
    await run(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    )
    for (const port of ports) {
      await waitFor(
        async () =>
          (await run('redis-cli', ['-p', String(port), 'CLUSTER', 'INFO'])).stdout.includes('cluster_state:ok'),
        20_000,
        'the cluster to be ready',
      )
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { ports, urls: ports.map((port) => `redis://127.0.0.1:${port}`), stop }
}

/**
 * A Redis Cluster of the calling file's own: started before its tests (unless `skip` says why
 * not) and stopped after them. `settings()` connects to it, and throws when it did not start.
 */
export function useOwnRedisCluster(skip: string | false) {
  let cluster: OwnRedisCluster | null = null
  before(async () => {
    if (!skip) cluster = await startOwnRedisCluster()
  })
  after(async () => {
    await cluster?.stop()
  })
  return {
    get cluster(): OwnRedisCluster | null {
      return cluster
    },
    settings(): RedisSettings {
      if (!cluster) throw new Error('the cluster did not start')
      return createTestRedisSettings({ urls: cluster.urls, isCluster: true })
    },
  }
}

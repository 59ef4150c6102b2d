/**
 * PostgreSQL for tests: every opening gets its own schema in the shared test database, dropped
 * when it is closed, so test files and test cases running in parallel never see each other; or
 * a server the test starts itself, for the tests that stop or pause it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { PostgresSettings } from '../../src/config/backends.ts'
import { openPostgresStores, type PostgresStores } from '../../src/storage/postgres/open.ts'
import { findPostgresServerPrograms, testPostgresUrl, uniqueTestName } from './backends.ts'
import { findFreePort } from './redis.ts'

export function createTestPostgresSettings(overrides: Partial<PostgresSettings> = {}): PostgresSettings {
  return {
    url: testPostgresUrl,
    schema: uniqueTestName('tessera_test'),
    poolSize: 4,
    migrateOnStart: true,
    ...overrides,
  }
}

/** Drops a test schema and everything in it. */
export async function dropTestSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresUrl })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

/** Stores in a fresh schema; closing them drops the schema. */
export async function openTestPostgresStores(options: {
  now: Date
  timeoutMs?: number
  settings?: Partial<PostgresSettings>
}): Promise<PostgresStores> {
  const settings = createTestPostgresSettings(options.settings)
  const stores = await openPostgresStores(settings, { timeoutMs: options.timeoutMs ?? 5000, now: options.now })
  return {
    ...stores,
    async close() {
      await stores.close()
      await dropTestSchema(settings.schema)
    },
  }
}

/**
 * One schema and one pool for a whole contract file: migrated at the first opening, emptied
 * (every table but the migration record) at each later one, closed and dropped when the file
 * ends. Creating and migrating a schema per test case took most of the time of the PostgreSQL
 * contract suites; emptying the tables with DELETE, children before the tables they refer to,
 * takes under a millisecond where TRUNCATE of the same empty-ish tables took about 45 ms.
 */
export function sharePostgresSchema(options: { now: Date }): {
  openStores: () => Promise<PostgresStores>
  dropSchema(): Promise<void>
} {
  const settings = createTestPostgresSettings()
  let shared: Promise<{ stores: PostgresStores; emptyTables: string }> | null = null
  async function open() {
    const stores = await openPostgresStores(settings, { timeoutMs: 5000, now: options.now })
    const tables = await stores.database.query(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`,
      [settings.schema],
    )
    const references = await stores.database.query(
      `SELECT child.relname AS child, parent.relname AS parent
       FROM pg_constraint
       JOIN pg_class child ON child.oid = pg_constraint.conrelid
       JOIN pg_class parent ON parent.oid = pg_constraint.confrelid
       JOIN pg_namespace ON pg_namespace.oid = child.relnamespace
       WHERE pg_constraint.contype = 'f' AND pg_namespace.nspname = $1`,
      [settings.schema],
    )
    const order = childrenFirst(
      tables.map((row) => String(row.table_name)),
      references.map((row) => ({ child: String(row.child), parent: String(row.parent) })),
    )
    return { stores, emptyTables: order.map((table) => `DELETE FROM "${table}"`).join('; ') }
  }
  return {
    async openStores() {
      shared ??= open()
      const { stores, emptyTables } = await shared
      await stores.database.query(emptyTables)
      // The pool outlives each test; the file closes it.
      return { ...stores, async close() {} }
    },
    async dropSchema() {
      if (shared) await (await shared).stores.close()
      await dropTestSchema(settings.schema)
    },
  }
}

/** The tables ordered so that each comes before every table it refers to by a foreign key. */
function childrenFirst(
  tables: readonly string[],
  references: ReadonlyArray<{ child: string; parent: string }>,
): string[] {
  const ordered: string[] = []
  const placed = new Set<string>()
  const place = (table: string, path: ReadonlySet<string>) => {
    if (placed.has(table) || path.has(table)) return
    const inner = new Set([...path, table])
    // Every table that refers to this one is emptied first.
    for (const { child, parent } of references) if (parent === table && child !== table) place(child, inner)
    placed.add(table)
    ordered.push(table)
  }
  for (const table of tables) place(table, new Set())
  return ordered
}

export interface OwnPostgresServer {
  port: number
  url: string
  /**
   * Stops the server the way `pg_ctl stop` does, by signalling the postmaster and waiting for it
   * to exit: `fast` (SIGINT) ends every session and writes a checkpoint, `immediate` (SIGQUIT)
   * makes every process quit at once, and the next start runs crash recovery.
   */
  stop(mode: 'fast' | 'immediate'): Promise<void>
  /** Starts it again on the same port with the same data directory; resolves once it answers. */
  start(): Promise<void>
  /** SIGSTOP to the postmaster and every process it started: connections stay open, nothing answers. */
  pause(): void
  /** SIGCONT to every paused process. */
  resume(): void
  /** Kills every process of the server and deletes its data directory. */
  destroy(): Promise<void>
}

/** The uid and gid to run the server as: PostgreSQL refuses to run as root. */
function readServerUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' })
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' })
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout), gid: Number(gid.stdout) }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as')
}

function readChildPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {
    // Already gone.
  }
}

/**
 * A PostgreSQL server of the test's own (Debian's server programs, a fresh data directory, a
 * free port on 127.0.0.1, trust authentication, no fsync), for tests that stop or pause the
 * database. Connect to its `postgres` database as user `postgres`.
 */
export async function startOwnPostgresServer(): Promise<OwnPostgresServer> {
  const bin = findPostgresServerPrograms()
  if (bin === null) throw new Error('the PostgreSQL server programs are not installed')
  const user = readServerUser()
  const asUser = user ?? {}
  const dir = mkdtempSync(join(tmpdir(), 'tessera-postgres-'))
  if (user) chownSync(dir, user.uid, user.gid)
  const dataDir = join(dir, 'data')
  const initialized = spawnSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
    { encoding: 'utf8', ...asUser },
  )
  if (initialized.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`initdb failed: ${initialized.stderr}`)
  }
  const port = await findFreePort()
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  let postmaster: ChildProcess | null = null
  let log = ''
  let paused: number[] = []

  async function answers(): Promise<boolean> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return true
    } catch {
      return false
    } finally {
      await client.end().catch(() => {})
    }
  }

  async function start(): Promise<void> {
    const child = spawn(
      join(bin as string, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=60',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...asUser },
    )
    postmaster = child
    log = ''
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-4000)))
    const deadline = Date.now() + 15_000
    while (!(await answers())) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`PostgreSQL exited at start:\n${log}`)
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not answer within 15 s:\n${log}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  async function stopWith(name: NodeJS.Signals): Promise<void> {
    const running = postmaster
    postmaster = null
    if (!running || running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill(name)
    await exited
  }

  function resume(): void {
    // The children first: the postmaster, once running, would find them stopped.
    for (const pid of paused.toReversed()) signal(pid, 'SIGCONT')
    paused = []
  }

  await start()
  return {
    port,
    url,
    stop: (mode) => stopWith(mode === 'fast' ? 'SIGINT' : 'SIGQUIT'),
    start,
    pause() {
      const pid = postmaster?.pid
      if (pid === undefined) throw new Error('PostgreSQL is not running')
      // The postmaster first, so that it starts no new process while the others are stopped.
      signal(pid, 'SIGSTOP')
      paused = [pid, ...readChildPids(pid)]
      for (const child of paused.slice(1)) signal(child, 'SIGSTOP')
    },
    resume,
    async destroy() {
      const pid = postmaster?.pid
      const children = pid === undefined ? [] : readChildPids(pid)
      resume()
      for (const child of children) signal(child, 'SIGKILL')
      await stopWith('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

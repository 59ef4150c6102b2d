/**
 * `tessera migrate` and `tessera migrate-data`, run as real commands: an installation that grew
 * on the embedded SQLite store moves to PostgreSQL and Redis without a password reset, without
 * logging anyone out, and with the same signing keys.
 */
import { listShippedMigrations } from '../helpers/migrations.ts'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/load.ts'
import { startServer } from '../../src/main.ts'
import { openRuntime } from '../../src/runtime.ts'
import {
  skipUnlessPostgres,
  skipUnlessPostgresAndRedis,
  testPostgresUrl,
  testRedisUrl,
  uniqueTestName,
} from '../helpers/backends.ts'
import { dropTestSchema } from '../helpers/postgres.ts'
import { openCleanedRedisPrefix } from '../helpers/redis.ts'

const projectRoot = fileURLToPath(new URL('../..', import.meta.url))
const cliPath = join(projectRoot, 'src/cli/main.ts')
const password = 'correct horse battery staple'
const skipPostgres = await skipUnlessPostgres()
const skipBoth = await skipUnlessPostgresAndRedis()

interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

function cleanEnv(settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('TESSERA_')) env[key] = value
  }
  // One issuer whatever the port, so tokens outlive a move to another server.
  const fixed = {
    TESSERA_ARGON2_MEMORY_KIB: '19456',
    TESSERA_LOG_LEVEL: 'silent',
    TESSERA_PUBLIC_URL: 'http://tessera.test',
  }
  return { ...env, ...fixed, ...settings }
}

function tessera(args: string[], env: Record<string, string>, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: projectRoot, env, stdio: 'pipe' })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })
}

function createDataDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-migrate-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function postgresEnv(t: TestContext): Record<string, string> {
  const schema = uniqueTestName('tessera_migrate')
  t.after(() => dropTestSchema(schema))
  return { TESSERA_DATABASE_URL: testPostgresUrl, TESSERA_DATABASE_SCHEMA: schema }
}

describe('tessera migrate', () => {
  it('reports that the embedded SQLite database needs no command', async (t) => {
    const result = await tessera(['migrate'], cleanEnv({ TESSERA_DATA_DIR: createDataDir(t) }))
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /migrates itself/)
  })

  it(
    'applies the PostgreSQL migrations once, then reports the schema up to date',
    { skip: skipPostgres },
    async (t) => {
      const env = cleanEnv({ TESSERA_DATA_DIR: createDataDir(t), ...postgresEnv(t) })
      const first = await tessera(['migrate', '--json'], env)
      assert.equal(first.code, 0, first.stderr)
      const shipped = listShippedMigrations('postgres').map((migration) => migration.version)
      assert.deepEqual(JSON.parse(first.stdout).applied, shipped)
      const second = await tessera(['migrate'], env)
      assert.equal(second.code, 0, second.stderr)
      assert.ok(second.stdout.includes(`is up to date (version ${shipped.at(-1)})`), second.stdout)
    },
  )

  it('exits with 1 and says why when PostgreSQL cannot be reached', async (t) => {
    const env = cleanEnv({
      TESSERA_DATA_DIR: createDataDir(t),
      TESSERA_DATABASE_URL: 'postgres://postgres:hidden-password@127.0.0.1:1/test',
      TESSERA_BACKEND_TIMEOUT: '500ms',
    })
    const result = await tessera(['migrate'], env)
    assert.equal(result.code, 1)
    assert.match(result.stderr, /PostgreSQL is not reachable: .*ECONNREFUSED/)
    assert.ok(!result.stderr.includes('hidden-password'))
  })

  it('a node without migrations refuses to start and names the command', { skip: skipPostgres }, async (t) => {
    const config = loadConfig(cleanEnv({ TESSERA_DATA_DIR: createDataDir(t), TESSERA_PORT: '0', ...postgresEnv(t) }))
    await assert.rejects(startServer(config), /tessera migrate/)
  })
})

describe('tessera migrate-data', { skip: skipBoth }, () => {
  it('moves users, keys and live sessions from SQLite to PostgreSQL and Redis; tokens and passwords keep working', async (t) => {
    const dataDir = createDataDir(t)
    const sqliteEnv = cleanEnv({ TESSERA_DATA_DIR: dataDir })
    assert.equal((await tessera(['user', 'create', 'alice', '--role', 'admin'], sqliteEnv, `${password}\n`)).code, 0)
    assert.equal((await tessera(['user', 'create', 'bob'], sqliteEnv, `${password}\n`)).code, 0)
    // 1. Bob signs in on the embedded store and keeps his tokens.
    const before = await openRuntime(loadConfig(sqliteEnv))
    const bob = await before.application.signIn.signIn({
      username: 'bob',
      password,
      transport: 'token',
      ip: '192.0.2.1',
      userAgent: 'test',
      requestId: null,
    })
    await before.close()

    // 2. Copy into PostgreSQL (sessions into Redis).
    const keyPrefix = uniqueTestName('tessera-migrate')
    const targetEnv = cleanEnv({
      TESSERA_DATA_DIR: dataDir,
      TESSERA_REDIS_URL: testRedisUrl,
      TESSERA_REDIS_KEY_PREFIX: keyPrefix,
      ...postgresEnv(t),
    })
    await openCleanedRedisPrefix(t, { urls: [testRedisUrl], isCluster: false, keyPrefix })
    assert.equal((await tessera(['migrate'], targetEnv)).code, 0)
    const copied = await tessera(['migrate-data', '--json'], targetEnv)
    assert.equal(copied.code, 0, copied.stderr)
    const report = JSON.parse(copied.stdout)
    assert.deepEqual(report.users, { copied: 2, already_present: 0 })
    assert.deepEqual(report.signing_keys, { copied: 1, already_present: 0 })
    assert.deepEqual(report.sessions, { copied: 1, already_present: 0 })
    assert.deepEqual(report.to, { durable: 'postgres', sessions: 'redis' })

    // 3. Again: nothing is copied twice.
    const again = JSON.parse((await tessera(['migrate-data', '--json'], targetEnv)).stdout)
    assert.deepEqual(again.users, { copied: 0, already_present: 2 })
    assert.deepEqual(again.sessions, { copied: 0, already_present: 1 })

    // 4. A server on the new backends honours the old token and the old passwords.
    const server = await startServer(loadConfig({ ...targetEnv, TESSERA_PORT: '0' }))
    t.after(() => server.close())
    const me = await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${bob.tokens?.accessToken}` } })
    assert.equal(me.status, 200)
    const refreshed = await fetch(`${server.url}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: bob.tokens?.refreshToken }),
    })
    assert.equal(refreshed.status, 200)
    const login = await fetch(`${server.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password }),
    })
    assert.equal(login.status, 200)
    assert.deepEqual(((await login.json()) as { user: { roles: string[] } }).user.roles, ['admin', 'user'])
  })

  it('refuses to copy signing keys that the target nodes could not open', async (t) => {
    const sourceDir = createDataDir(t)
    const targetDir = createDataDir(t)
    assert.equal(
      (await tessera(['user', 'create', 'alice'], cleanEnv({ TESSERA_DATA_DIR: sourceDir }), `${password}\n`)).code,
      0,
    )
    const env = cleanEnv({ TESSERA_DATA_DIR: targetDir, TESSERA_DATABASE_MIGRATE_ON_START: 'true', ...postgresEnv(t) })
    const refused = await tessera(['migrate-data', '--from', sourceDir], env)
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /copy that file/)
    copyFileSync(join(sourceDir, 'master.key'), join(targetDir, 'master.key'))
    const accepted = await tessera(['migrate-data', '--from', sourceDir], env)
    assert.equal(accepted.code, 0, accepted.stderr)
    assert.match(accepted.stdout, /users {8}1 copied/)
  })

  it('needs a PostgreSQL to copy into', async (t) => {
    const result = await tessera(['migrate-data'], cleanEnv({ TESSERA_DATA_DIR: createDataDir(t) }))
    assert.equal(result.code, 1)
    assert.match(result.stderr, /TESSERA_DATABASE_URL is not set/)
  })
})

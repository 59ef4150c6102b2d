/**
 * The real PostgreSQL and Redis the scale-out tests run against. When one is absent the tests
 * that need it are skipped, loudly; with TESSERA_TEST_REQUIRE_BACKENDS=1 (as CI sets it) its absence
 * is a failure instead.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { it } from 'node:test'
import pg from 'pg'

export const testPostgresUrl = process.env.TESSERA_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const testRedisUrl = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const isRequired = process.env.TESSERA_TEST_REQUIRE_BACKENDS === '1'

async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return null
  } catch (error) {
    return `PostgreSQL at ${testPostgresUrl} is not reachable (${(error as Error).message})`
  } finally {
    await client.end().catch(() => {})
  }
}

function probeRedis(): Promise<string | null> {
  const url = new URL(testRedisUrl)
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379) })
    const fail = (why: string) => {
      socket.destroy()
      resolve(`Redis at ${testRedisUrl} is not reachable (${why})`)
    }
    socket.setTimeout(2000, () => fail('timeout'))
    socket.on('error', (error) => fail(error.message))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (data) => {
      socket.destroy()
      resolve(
        data.toString().startsWith('+PONG')
          ? null
          : `Redis at ${testRedisUrl} answered ${JSON.stringify(data.toString())}`,
      )
    })
  })
}

function probeRedisServerBinary(): string | null {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  return result.status === 0 ? null : 'the redis-server program is not installed'
}

/**
 * The reason to skip, or false. Absent and required: a failing test says what is missing.
 * Absent and optional: a warning on stderr, and the suites are skipped.
 */
function decide(problem: string | null): string | false {
  if (problem === null) return false
  if (isRequired) {
    it(`the backend is available (TESSERA_TEST_REQUIRE_BACKENDS=1): ${problem}`, () => assert.fail(problem))
    return `${problem}; required`
  }
  process.stderr.write(
    `\n*** SKIPPING scale-out tests: ${problem}. Set TESSERA_TEST_REQUIRE_BACKENDS=1 to make this a failure. ***\n\n`,
  )
  return problem
}

export async function skipUnlessPostgres(): Promise<string | false> {
  return decide(await probePostgres())
}

export async function skipUnlessRedis(): Promise<string | false> {
  return decide(await probeRedis())
}

/** For tests that start their own redis-server. */
export function skipUnlessRedisServerProgram(): string | false {
  return decide(probeRedisServerBinary())
}

/** The directory of Debian's PostgreSQL server programs (the newest version installed), or null. */
export function findPostgresServerPrograms(): string | null {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
  const found = versions.map((version) => join(root, version, 'bin')).find((bin) => existsSync(join(bin, 'initdb')))
  return found ?? null
}

/** For tests that start their own PostgreSQL server. */
export function skipUnlessPostgresServerProgram(): string | false {
  return decide(
    findPostgresServerPrograms() === null
      ? 'the PostgreSQL server programs (initdb, postgres) are not installed'
      : null,
  )
}

export async function skipUnlessPostgresAndRedis(): Promise<string | false> {
  const problems = [await probePostgres(), await probeRedis(), probeRedisServerBinary()].filter((p) => p !== null)
  return decide(problems.length === 0 ? null : problems.join('; '))
}

/** A name no other test run uses (schemas, key prefixes). */
export function uniqueTestName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`
}

import assert from 'node:assert/strict'
import bcrypt from 'bcryptjs'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { runCli } from '../../src/cli/main.ts'
import type { Io } from '../../src/cli/io.ts'
import { loadConfig } from '../../src/config/load.ts'
import { openRuntime } from '../../src/runtime.ts'
import {
  logInWithToken,
  startTestServer,
  strongPassword,
  uniqueUsername,
  type TestServer,
} from '../helpers/test-server.ts'
import { createOfflineContext } from '../../src/core/request-context.ts'
import { requirePython } from '../helpers/python.ts'

const testActor = { actorUserId: null, context: createOfflineContext('cli') }

/** `$2b$` hashes made by Debian's python3-bcrypt (the library the seed Flask design uses). */
function hashWithPythonBcrypt(python: string, passwords: string[], cost: number): string[] {
  const script =
    'import bcrypt, json, sys\n' +
    'print(json.dumps([bcrypt.hashpw(p.encode("utf-8"), bcrypt.gensalt(int(sys.argv[1]))).decode() for p in json.load(sys.stdin)]))'
  const output = execFileSync(python, ['-c', script, String(cost)], { input: JSON.stringify(passwords) })
  return JSON.parse(output.toString('utf8')) as string[]
}

function createCapturingIo(env: Record<string, string>): Io & { output: { stdout: string; stderr: string } } {
  const output = { stdout: '', stderr: '' }
  return {
    output,
    env,
    isInteractive: false,
    stdout: (text) => void (output.stdout += text),
    stderr: (text) => void (output.stderr += text),
    readSecret: async () => {
      throw new Error('no secret expected')
    },
  }
}

async function signedInAdmin(server: TestServer) {
  const username = uniqueUsername('admin')
  await server.application.accountAdmin.createUser(
    { username, password: strongPassword, roles: ['admin', 'user'] },
    { actorUserId: null, context: { ip: null, userAgent: 'test', requestId: null } },
  )
  return logInWithToken(server, username)
}

async function storedHash(server: TestServer, username: string): Promise<string | undefined> {
  return (await server.application.accountAdmin.findUserByUsername(username))?.passwordHash
}

describe('bcrypt import', () => {
  it('imports bcrypt users through the admin API; they sign in, and the hash becomes argon2id', async (t) => {
    const server = await startTestServer(t)
    const admin = await signedInAdmin(server)
    const users = [
      { username: uniqueUsername('b'), password: 'flask era password 1', hash: (p: string) => bcrypt.hashSync(p, 10) },
      {
        username: uniqueUsername('a'),
        password: 'flask era password 2',
        hash: (p: string) => bcrypt.hashSync(p, 11).replace(/^\$2b\$/, '$2a$'),
      },
      {
        username: uniqueUsername('y'),
        password: 'php era password 3',
        hash: (p: string) => bcrypt.hashSync(p, 10).replace(/^\$2b\$/, '$2y$'),
      },
    ]
    const entries = users.map((user) => ({ username: user.username, password_hash: user.hash(user.password) }))
    const imported = await server.request('/v1/admin/users/import', {
      bearer: admin.access_token,
      body: { users: entries },
    })
    assert.equal(imported.status, 200)
    assert.deepEqual([imported.json.imported, imported.json.existing, imported.json.failed], [3, 0, 0])

    for (const user of users) {
      assert.match((await storedHash(server, user.username)) ?? '', /^\$2[aby]\$/)
      const wrong = await server.request('/v1/auth/login', {
        body: { username: user.username, password: `${user.password}!` },
      })
      assert.equal(wrong.status, 401)
      assert.match((await storedHash(server, user.username)) ?? '', /^\$2[aby]\$/, 'a wrong password upgrades nothing')
      await logInWithToken(server, user.username, user.password)
      assert.match((await storedHash(server, user.username)) ?? '', /^\$argon2id\$/)
      await logInWithToken(server, user.username, user.password)
    }

    const again = await server.request('/v1/admin/users/import', {
      bearer: admin.access_token,
      body: { users: entries },
    })
    assert.deepEqual([again.json.imported, again.json.existing, again.json.failed], [0, 3, 0])
  })

  it('reports each bad entry on its own and imports the rest', async (t) => {
    const server = await startTestServer(t)
    const admin = await signedInAdmin(server)
    const good = bcrypt.hashSync('a good old password', 4)
    const entries = [
      { username: uniqueUsername(), password_hash: good },
      { username: 'x', password_hash: good },
      { username: uniqueUsername(), password_hash: good.replace(/^\$2b\$/, '$2x$') },
      { username: uniqueUsername(), password_hash: '5f4dcc3b5aa765d61d8327deb882cf99' },
      { username: uniqueUsername(), password_hash: `$2b$31$${good.slice(7)}` },
      { username: uniqueUsername(), password_hash: good, roles: ['Not A Role'] },
      { username: uniqueUsername(), password_hash: good },
    ]
    const response = await server.request('/v1/admin/users/import', {
      bearer: admin.access_token,
      body: { users: entries },
    })
    assert.equal(response.status, 200)
    assert.deepEqual(
      response.json.results.map((result: { outcome: string }) => result.outcome),
      ['imported', 'failed', 'failed', 'failed', 'failed', 'failed', 'imported'],
    )
    assert.deepEqual(
      response.json.results.map((result: { code?: string }) => result.code ?? null),
      [
        null,
        'invalid_username',
        'validation_failed',
        'validation_failed',
        'validation_failed',
        'validation_failed',
        null,
      ],
    )
    assert.ok(!response.text.includes(good), 'hashes are not echoed')
  })

  it('verifies a bcrypt hash without blocking the event loop', async (t) => {
    const server = await startTestServer(t)
    const username = uniqueUsername()
    await server.application.accountAdmin.importUsers(
      [{ username, passwordHash: bcrypt.hashSync('cost twelve', 12) }],
      testActor,
    )
    // The longest gap between ticks of a 5 ms timer while a cost-12 hash (hundreds of ms) is checked.
    let lastTickAt = performance.now()
    let worstGapMs = 0
    const ticker = setInterval(() => {
      const now = performance.now()
      worstGapMs = Math.max(worstGapMs, now - lastTickAt)
      lastTickAt = now
    }, 5)
    t.after(() => clearInterval(ticker))
    await setTimeout(20)
    const started = performance.now()
    const response = await server.request('/v1/auth/login', { body: { username, password: 'not it at all, sorry' } })
    const elapsedMs = performance.now() - started
    clearInterval(ticker)
    assert.equal(response.status, 401)
    t.diagnostic(
      `a cost-12 verification took ${elapsedMs.toFixed(0)} ms; the event loop's longest pause was ${worstGapMs.toFixed(1)} ms`,
    )
    assert.ok(worstGapMs < elapsedMs / 3, `the event loop paused ${worstGapMs} ms of ${elapsedMs} ms`)
  })

  it('imports a JSON-lines file with the CLI, idempotently, with per-line errors', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-import-'))
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const env = { TESSERA_DATA_DIR: dataDir }
    const users = [
      {
        username: 'flaskuser1',
        password: 'written in the flask days 1',
        hash: bcrypt.hashSync('written in the flask days 1', 10),
      },
      {
        username: 'flaskuser2',
        password: 'written in the flask days 2',
        hash: bcrypt.hashSync('written in the flask days 2', 10),
      },
    ]
    const lines = [
      ...users.map((user) => JSON.stringify({ username: user.username, password_hash: user.hash, roles: ['user'] })),
      '',
      'this is not json',
      JSON.stringify({ username: 'badhash', password_hash: 'plain text password' }),
      JSON.stringify({ username: 'extra', password_hash: users[0]?.hash, admin: true }),
    ]
    const file = join(dataDir, 'users.jsonl')
    writeFileSync(file, `${lines.join('\n')}\n`)

    const first = createCapturingIo(env)
    assert.equal(await runCli(['user', 'import', file], first), 1)
    assert.equal(first.output.stdout, `Imported ${users.length}, already present 0, failed 3.\n`)
    const badLine = users.length + 2
    assert.match(first.output.stderr, new RegExp(`^line ${badLine}: not a JSON object \\(validation_failed\\)$`, 'm'))
    assert.match(first.output.stderr, new RegExp(`^line ${badLine + 1}: .*bcrypt.*\\(validation_failed\\)$`, 'm'))
    assert.match(first.output.stderr, new RegExp(`^line ${badLine + 2}: unknown field admin`, 'm'))
    assert.ok(!first.output.stderr.includes('plain text password'))

    const second = createCapturingIo(env)
    assert.equal(await runCli(['user', 'import', file, '--json'], second), 1)
    assert.deepEqual(
      { ...JSON.parse(second.output.stdout), errors: undefined },
      { imported: 0, existing: users.length, failed: 3, errors: undefined },
    )

    const runtime = await openRuntime(loadConfig(env))
    t.after(() => runtime.close())
    for (const user of users) {
      const client = { ip: '127.0.0.1', userAgent: 'test', requestId: null, transport: 'token' as const }
      await runtime.application.signIn.signIn({ username: user.username, password: user.password, ...client })
      assert.match(
        (await runtime.application.accountAdmin.findUserByUsername(user.username))?.passwordHash ?? '',
        /^\$argon2id\$/,
      )
      await runtime.application.signIn.signIn({ username: user.username, password: user.password, ...client })
    }
    assert.equal(await runCli(['user', 'import'], createCapturingIo(env)), 2)
    assert.equal(await runCli(['user', 'import', join(dataDir, 'missing.jsonl')], createCapturingIo(env)), 1)
  })

  it('imports hashes made by Debian python3-bcrypt, as the seed Flask design stores them', async (t) => {
    const passwords = ['hashed by python bcrypt 1', 'hashed by python bcrypt 2 \u00e9\u00e8']
    const python = requirePython(t, ['bcrypt'])
    if (python === null) return
    const hashes = hashWithPythonBcrypt(python, passwords, 12)
    const server = await startTestServer(t)
    const entries = passwords.map((password, index) => ({
      username: uniqueUsername('py'),
      passwordHash: hashes[index] ?? '',
      password,
    }))
    assert.ok(entries.every((entry) => entry.passwordHash.startsWith('$2b$12$')))
    const results = await server.application.accountAdmin.importUsers(entries, testActor)
    assert.deepEqual(
      results.map((result) => result.outcome),
      ['imported', 'imported'],
    )
    for (const entry of entries) {
      assert.equal(
        (await server.request('/v1/auth/login', { body: { username: entry.username, password: `${entry.password}x` } }))
          .status,
        401,
      )
      await logInWithToken(server, entry.username, entry.password)
      assert.match((await storedHash(server, entry.username)) ?? '', /^\$argon2id\$/)
      await logInWithToken(server, entry.username, entry.password)
    }
  })

  it('unlocks a user from the CLI', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-unlock-'))
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const env = { TESSERA_DATA_DIR: dataDir }
    const runtime = await openRuntime(loadConfig(env))
    t.after(() => runtime.close())
    await runtime.application.accountAdmin.importUsers(
      [{ username: 'lockedout', passwordHash: bcrypt.hashSync('whatever it was', 4) }],
      testActor,
    )
    const attempt = {
      username: 'lockedout',
      password: 'not the password it had',
      transport: 'token' as const,
      ip: '198.51.100.1',
      userAgent: 'test',
      requestId: null,
    }
    for (let index = 0; index < 5; index += 1) {
      await assert.rejects(runtime.application.signIn.signIn(attempt), { code: 'invalid_credentials' })
    }
    await assert.rejects(runtime.application.signIn.signIn(attempt), { code: 'rate_limited' })
    const io = createCapturingIo(env)
    assert.equal(await runCli(['user', 'unlock', 'LockedOut'], io), 0)
    assert.equal(io.output.stdout, 'Unlocked lockedout: cleared 2 failure counters.\n')
    await assert.rejects(runtime.application.signIn.signIn(attempt), { code: 'invalid_credentials' })
    const unknown = createCapturingIo(env)
    assert.equal(await runCli(['user', 'unlock', 'nobody-here'], unknown), 1)
    assert.match(unknown.output.stderr, /No such user/)
  })
})

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { loadConfig } from '../config/load.ts'
import { openRuntime } from '../runtime.ts'
import type { Io } from './io.ts'
import { runCli } from './main.ts'

const password = 'correct horse battery staple'

function createIo(t: TestContext) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-lifecycle-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const output = { stdout: '', stderr: '' }
  const secrets: string[] = []
  const io: Io = {
    env: { TESSERA_DATA_DIR: dataDir, TESSERA_ARGON2_MEMORY_KIB: '12288', TESSERA_ARGON2_PASSES: '3' },
    isInteractive: false,
    stdout: (text) => void (output.stdout += text),
    stderr: (text) => void (output.stderr += text),
    readSecret: async () => secrets.shift() ?? password,
  }
  async function run(args: string[], secret?: string) {
    output.stdout = ''
    output.stderr = ''
    if (secret !== undefined) secrets.push(secret)
    const code = await runCli(args, io)
    return { code, ...output }
  }
  return { io, run }
}

/** Signs a user in through the application, as the API would; returns its session id. */
async function signIn(io: Io, username: string, secret = password): Promise<string | null> {
  const runtime = await openRuntime(loadConfig(io.env))
  try {
    const signedIn = await runtime.application.signIn.signIn({
      username,
      password: secret,
      transport: 'token',
      ip: '192.0.2.1',
      userAgent: 'test',
      requestId: null,
    })
    return signedIn.session.id
  } catch {
    return null
  } finally {
    await runtime.close()
  }
}

describe('tessera user show, sessions, disable, enable, password and delete', () => {
  it('finds a user by any spelling, lists and ends its sessions, disables, enables, sets a password and deletes it', async (t) => {
    const { io, run } = createIo(t)
    assert.equal((await run(['user', 'create', 'alice', '--role', 'admin'])).code, 0)
    assert.equal((await run(['user', 'create', 'bob'])).code, 0)
    const sessionId = await signIn(io, 'bob')
    assert.ok(sessionId)

    const shown = await run(['user', 'show', 'BOB', '--json'])
    assert.equal(shown.code, 0, shown.stderr)
    const view = JSON.parse(shown.stdout)
    assert.equal(view.username, 'bob')
    assert.equal(view.live_sessions, 1)
    assert.equal((await run(['user', 'show', view.id])).code, 0)

    const listed = JSON.parse((await run(['user', 'sessions', 'list', 'bob', '--json'])).stdout)
    assert.deepEqual(
      listed.sessions.map((session: { id: string }) => session.id),
      [sessionId],
    )
    const ended = await run(['user', 'sessions', 'end', 'bob'])
    assert.equal(ended.code, 0, ended.stderr)
    assert.match(ended.stdout, /Ended every session of bob \(1 live\)/)
    assert.deepEqual(JSON.parse((await run(['user', 'sessions', 'list', 'bob', '--json'])).stdout).sessions, [])

    assert.equal((await run(['user', 'disable', 'bob', '--reason', 'spam'])).code, 0)
    assert.equal(await signIn(io, 'bob'), null)
    assert.equal(JSON.parse((await run(['user', 'show', 'bob', '--json'])).stdout).is_disabled, true)
    assert.equal((await run(['user', 'enable', 'bob'])).code, 0)
    assert.ok(await signIn(io, 'bob'))

    const newPassword = 'a helpdesk passphrase for bob'
    const set = await run(['user', 'password', 'bob'], newPassword)
    assert.equal(set.code, 0, set.stderr)
    assert.equal(await signIn(io, 'bob'), null)
    assert.ok(await signIn(io, 'bob', newPassword))
    assert.equal(JSON.parse((await run(['user', 'show', 'bob', '--json'])).stdout).is_password_change_required, true)
    assert.equal((await run(['user', 'password', 'bob', '--password=x'])).code, 2)

    const trail = await run(['audit', 'query', '--user', 'BOB', '--jsonl'])
    assert.equal(trail.code, 0, trail.stderr)
    assert.ok(trail.stdout.split('\n').some((line) => line.includes('"user_disabled"')))
    assert.equal((await run(['audit', 'query', '--user', 'nobody-at-all'])).code, 1)

    assert.equal((await run(['user', 'delete', 'bob'])).code, 2, 'deleting needs --yes')
    assert.equal((await run(['user', 'delete', 'bob', '--yes'])).code, 0)
    const missing = await run(['user', 'show', 'bob'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /No user "bob"/)

    const lastAdmin = await run(['user', 'disable', 'alice'])
    assert.equal(lastAdmin.code, 1)
    assert.match(lastAdmin.stderr, /last enabled administrator/)
    assert.equal((await run(['role', 'revoke', 'alice', 'admin'])).code, 1)
    assert.equal((await run(['user', 'sessions'])).code, 2)
  })
})

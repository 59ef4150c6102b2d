import assert from 'node:assert/strict'
import { createAttemptedUsernames } from '../core/audit/attempted-username.ts'
import { createAudit } from '../core/audit/audit.ts'
import { systemClock } from '../core/clock.ts'
import { silentObserver } from '../core/observer.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { loadConfig } from '../config/load.ts'
import type { AuditEventInput } from '../core/audit/audit.ts'
import { openRuntime } from '../runtime.ts'
import type { Io } from './io.ts'
import { runCli } from './main.ts'

function createIo(env: Record<string, string>): Io & { output: { stdout: string; stderr: string } } {
  const output = { stdout: '', stderr: '' }
  return {
    output,
    env,
    isInteractive: false,
    stdout: (text) => void (output.stdout += text),
    stderr: (text) => void (output.stderr += text),
    readSecret: async () => 'correct horse battery staple',
  }
}

function createEnv(t: TestContext): Record<string, string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-audit-cli-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  return { TESSERA_DATA_DIR: dataDir, TESSERA_ARGON2_MEMORY_KIB: '12288', TESSERA_ARGON2_PASSES: '3' }
}

const failure = (username: string, ip: string): AuditEventInput => ({
  type: 'login_failed',
  outcome: 'failure',
  reason: 'unknown_user',
  username,
  context: { ip, userAgent: 'cli-test', requestId: null },
})

/** Records events into the trail of the same data directory, as a server would. */
async function recordEvents(env: Record<string, string>, events: AuditEventInput[]): Promise<void> {
  const runtime = await openRuntime(loadConfig(env))
  try {
    const audit = createAudit({
      store: runtime.stores.audit,
      clock: systemClock,
      nodeId: 'cli-test',
      observer: silentObserver,
      usernames: createAttemptedUsernames({ secret: new Uint8Array(32), accounts: runtime.stores.accounts }),
    })
    for (const event of events) await audit.record(event)
  } finally {
    await runtime.close()
  }
}

describe('tessera audit', () => {
  it('audit query prints matching events as a table or as JSON lines', async (t) => {
    const env = createEnv(t)
    assert.equal(await runCli(['user', 'create', 'judy'], createIo(env)), 0)
    await recordEvents(env, [failure('mallory', '192.0.2.5'), failure('trent', '192.0.2.6')])
    const table = createIo(env)
    assert.equal(await runCli(['audit', 'query', '--type', 'login_failed'], table), 0)
    assert.match(table.output.stdout, /^TIME\s+TYPE\s+OUTCOME\s+REASON\s+USER\s+IP\s+SESSION\n/)
    assert.equal(table.output.stdout.trimEnd().split('\n').length, 3)
    const lines = createIo(env)
    assert.equal(await runCli(['audit', 'query', '--ip', '192.0.2.5', '--jsonl'], lines), 0)
    const parsed = lines.output.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
    assert.deepEqual(
      parsed.map((event) => [event.type, event.reason]),
      [['login_failed', 'unknown_user']],
    )
    // No account is named mallory: the trail keeps a keyed digest of the name.
    assert.match(parsed[0].username, /^~[A-Za-z0-9_-]{16}$/)
    const created = createIo(env)
    assert.equal(await runCli(['audit', 'query', '--type', 'user_created', '--jsonl'], created), 0)
    const event = JSON.parse(created.output.stdout)
    assert.equal(event.user_agent, 'tessera-cli')
    assert.equal(event.username, 'judy')
  })

  it('audit query refuses an unknown type, a bad outcome or time, with exit code 2', async (t) => {
    const env = createEnv(t)
    for (const args of [
      ['--type', 'login_ok'],
      ['--outcome', 'maybe'],
      ['--since', 'yesterday'],
      ['--limit', '0'],
      ['extra'],
    ]) {
      const io = createIo(env)
      assert.equal(await runCli(['audit', 'query', ...args], io), 2, args.join(' '))
    }
    assert.equal(await runCli(['audit', 'purge'], createIo(env)), 2)
  })

  it('audit tail follows new events and stops by itself after --count', async (t) => {
    const env = createEnv(t)
    await recordEvents(env, [failure('before-tail', '192.0.2.1')])
    // The events below are recorded with the system clock, after this instant.
    const since = new Date(Date.now() + 1)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const io = createIo(env)
    const tail = runCli(
      ['audit', 'tail', '--type', 'login_failed', '--since', since.toISOString(), '--interval', '20ms', '--count', '2'],
      io,
    )
    await recordEvents(env, [
      failure('first', '192.0.2.2'),
      failure('second', '192.0.2.3'),
      failure('third', '192.0.2.4'),
    ])
    assert.equal(await tail, 0)
    const addresses = io.output.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).ip)
    assert.deepEqual(addresses, ['192.0.2.2', '192.0.2.3'])
  })

  it('audit tail stops by itself after --for when nothing happens', async (t) => {
    const env = createEnv(t)
    await (await openRuntime(loadConfig(env))).close()
    const io = createIo(env)
    assert.equal(await runCli(['audit', 'tail', '--interval', '20ms', '--for', '100ms'], io), 0)
    assert.equal(io.output.stdout, '')
  })

  it('audit alerts lists the alerts of the review', async (t) => {
    const env = createEnv(t)
    await (await openRuntime(loadConfig(env))).close()
    const empty = createIo(env)
    assert.equal(await runCli(['audit', 'alerts'], empty), 0)
    assert.equal(empty.output.stdout, 'No alerts.\n')
    await recordEvents(
      env,
      Array.from({ length: 12 }, () => failure('victim', '192.0.2.9')),
    )
    const runtime = await openRuntime(loadConfig(env))
    await runtime.application.maintenance.runReview(new Date())
    await runtime.close()
    const listed = createIo(env)
    assert.equal(await runCli(['audit', 'alerts'], listed), 0)
    assert.match(
      listed.output.stdout,
      /high\s+brute_force\s+not_configured\s+12 failed sign-ins on a username that names no account/,
    )
    const json = createIo(env)
    assert.equal(await runCli(['audit', 'alerts', '--json', '--rule', 'password_spraying'], json), 0)
    assert.deepEqual(JSON.parse(json.output.stdout), { alerts: [] })
  })
})

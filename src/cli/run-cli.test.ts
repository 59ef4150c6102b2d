import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, it, type TestContext } from 'node:test'
import { ConfigError } from '../config/load.ts'
import { TesseraError } from '../core/errors.ts'
import { reportError } from './errors.ts'
import { formatJson, formatTable } from './format.ts'
import { readFirstLine, type Io } from './io.ts'
import { runCli } from './main.ts'
import { describeUser } from './user-view.ts'

const password = 'correct horse battery staple'

interface FakeIo extends Io {
  output: { stdout: string; stderr: string; prompts: string[] }
}

/** An Io that answers prompts from `secrets` in order and records everything written. */
function createFakeIo(
  options: { env?: Record<string, string>; secrets?: string[]; isInteractive?: boolean } = {},
): FakeIo {
  const secrets = [...(options.secrets ?? [])]
  const output = { stdout: '', stderr: '', prompts: [] as string[] }
  return {
    output,
    env: options.env ?? {},
    isInteractive: options.isInteractive ?? false,
    stdout: (text) => void (output.stdout += text),
    stderr: (text) => void (output.stderr += text),
    async readSecret(prompt) {
      output.prompts.push(prompt)
      const secret = secrets.shift()
      if (secret === undefined) throw new Error('no more secrets in the fake')
      return secret
    },
  }
}

function createDataDir(t: TestContext): Record<string, string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-unit-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  return { TESSERA_DATA_DIR: dataDir }
}

describe('user create with an injected Io', () => {
  it('asks twice at a terminal and creates the user when both answers match', async (t) => {
    const io = createFakeIo({ env: createDataDir(t), secrets: [password, password], isInteractive: true })
    assert.equal(await runCli(['user', 'create', 'alice'], io), 0)
    assert.deepEqual(io.output.prompts, ['Password for alice: ', 'Repeat the password: '])
    assert.match(io.output.stdout, /^Created user alice with roles user \(id [0-9a-f-]{36}\)\.\n$/)
  })

  it('refuses different answers at a terminal with exit code 1 and creates nothing', async (t) => {
    const env = createDataDir(t)
    const io = createFakeIo({ env, secrets: [password, `${password}!`], isInteractive: true })
    assert.equal(await runCli(['user', 'create', 'alice'], io), 1)
    assert.equal(io.output.stderr, `Data directory: ${env.TESSERA_DATA_DIR}\ntessera: The passwords do not match.\n`)
    const list = createFakeIo({ env })
    assert.equal(await runCli(['user', 'list', '--json'], list), 0)
    assert.deepEqual(JSON.parse(list.output.stdout), { users: [] })
  })

  it('asks once when the password comes from a pipe', async (t) => {
    const io = createFakeIo({ env: createDataDir(t), secrets: [password] })
    assert.equal(await runCli(['user', 'create', 'alice', '--role', 'admin', '--role', 'ops'], io), 0)
    assert.equal(io.output.prompts.length, 1)
    assert.match(io.output.stdout, /with roles admin, ops, user/)
  })

  it('refuses a taken username before asking for a password', async (t) => {
    const env = createDataDir(t)
    assert.equal(await runCli(['user', 'create', 'alice'], createFakeIo({ env, secrets: [password] })), 0)
    const io = createFakeIo({ env, secrets: [password] })
    assert.equal(await runCli(['user', 'create', 'Alice'], io), 1)
    assert.deepEqual(io.output.prompts, [])
  })
})

describe('readFirstLine()', () => {
  it('keeps spaces and strips only the line ending', async () => {
    assert.equal(await readFirstLine(Readable.from(['  two ', 'chunks  \r\n', 'next line\n'])), '  two chunks  ')
    assert.equal(await readFirstLine(Readable.from(['\tpass word \n'])), '\tpass word ')
  })

  it('returns an unterminated last line, and null for empty input', async () => {
    assert.equal(await readFirstLine(Readable.from(['no newline '])), 'no newline ')
    assert.equal(await readFirstLine(Readable.from([])), null)
  })

  it('returns an empty string for an empty first line', async () => {
    assert.equal(await readFirstLine(Readable.from(['\nsecond\n'])), '')
  })
})

describe('reportError()', () => {
  it('prints a TesseraError message and code without a stack and returns 1', () => {
    const io = createFakeIo()
    const code = reportError(new TesseraError('username_taken', 'This username is already taken.'), io)
    assert.equal(code, 1)
    assert.equal(io.output.stderr, 'tessera: This username is already taken. (username_taken)\n')
  })

  it('lists every problem of a ConfigError and returns 1', () => {
    const io = createFakeIo()
    assert.equal(reportError(new ConfigError(['TESSERA_PORT: bad', 'TESSERA_HOST: bad']), io), 1)
    assert.equal(io.output.stderr, 'tessera: invalid configuration:\n  TESSERA_PORT: bad\n  TESSERA_HOST: bad\n')
  })

  it('treats a parseArgs error as a usage error and returns 2', async () => {
    const io = createFakeIo()
    assert.equal(await runCli(['version', '--verbose'], io), 2)
    assert.match(io.output.stderr, /Unknown option '--verbose'/)
  })

  it('prints only the message of an unexpected error', () => {
    const io = createFakeIo()
    assert.equal(reportError(new Error('disk full'), io), 1)
    assert.equal(io.output.stderr, 'tessera: disk full\n')
  })
})

describe('output', () => {
  it('describeUser() copies no password hash', () => {
    const now = new Date('2025-01-02T03:04:05Z')
    const view = describeUser({
      id: 'id-1',
      username: 'alice',
      usernameKey: 'alice',
      usernameSkeleton: null,
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
      roles: ['user'],
      disabledAt: null,
      sessionEpoch: 0,
      isPasswordChangeRequired: false,
      createdAt: now,
      updatedAt: now,
    })
    assert.ok(!JSON.stringify(view).includes('argon2'))
    assert.deepEqual(Object.keys(view).sort(), ['createdAt', 'id', 'isDisabled', 'roles', 'updatedAt', 'username'])
  })

  it('formatJson() writes keys in snake_case, as the HTTP API does, at every depth', () => {
    assert.equal(
      formatJson({ clientId: 'c1', key: { activatesAt: 'x', kid: 'k' }, keys: [{ retiresAt: null }] }),
      '{\n  "client_id": "c1",\n  "key": {\n    "activates_at": "x",\n    "kid": "k"\n  },\n  "keys": [\n    {\n      "retires_at": null\n    }\n  ]\n}\n',
    )
  })

  it('formatTable() pads columns by code points', () => {
    assert.equal(
      formatTable([
        ['a', 'x'],
        ['𝒜𝒷𝒸', 'y'],
      ]),
      'a    x\n𝒜𝒷𝒸  y',
    )
  })
})

describe('config check', () => {
  // regression: #11 — credentials, capability paths and query passwords were printed in clear.
  it('masks the credentials and capability paths of the webhook URL and the passwords of backend URLs', async () => {
    const env = {
      TESSERA_ALERT_WEBHOOK_URL:
        'https://bot:chat-pass@hooks.example:8443/services/T000/B000/capability-XYZ?token=qs-secret',
      TESSERA_ALERT_WEBHOOK_SECRET: 'a-long-enough-shared-secret',
      TESSERA_DATABASE_URL: 'postgres://tessera@db:5432/tessera?password=query-secret&sslmode=require',
      TESSERA_REDIS_URL: 'redis://:redis-pass@cache:6379/0?password=redis-query-secret',
    }
    for (const args of [
      ['config', 'check'],
      ['config', 'check', '--json'],
    ]) {
      const io = createFakeIo({ env })
      assert.equal(await runCli(args, io), 0, io.output.stderr)
      const shown = io.output.stdout
      for (const secret of [
        'chat-pass',
        'capability-XYZ',
        'T000',
        'qs-secret',
        'query-secret',
        'redis-pass',
        'redis-query-secret',
        'a-long-enough',
      ]) {
        assert.ok(!shown.includes(secret), `${args.join(' ')} shows ${secret}`)
      }
      assert.ok(shown.includes('https://bot:***@hooks.example:8443/(path hidden)'), shown)
      assert.ok(shown.includes('postgres://tessera@db:5432/tessera?password=***&sslmode=***'), shown)
      assert.ok(shown.includes('redis://:***@cache:6379/0?password=***'), shown)
    }
  })

  it('makes the checks of a start too: an unresolvable host is named as such', async () => {
    const io = createFakeIo({ env: { TESSERA_HOST: 'no-such-host.invalid' } })
    assert.equal(await runCli(['config', 'check'], io), 1)
    assert.match(io.output.stderr, /TESSERA_HOST: "no-such-host\.invalid" does not resolve/)
  })
})

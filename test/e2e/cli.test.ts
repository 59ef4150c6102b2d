/**
 * Runs the real `tessera` command as a child process against a fresh data directory, with the
 * password piped on standard input, and checks output and exit codes (0 done, 1 refused, 2 usage).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { withApplication } from '../../src/cli/open-core.ts'
import { loadConfig } from '../../src/config/load.ts'

const projectRoot = fileURLToPath(new URL('../..', import.meta.url))
const cliPath = join(projectRoot, 'src/cli/main.ts')
const binPath = join(projectRoot, 'bin/tessera.js')
const password = 'correct horse battery staple'

interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

interface UserListing {
  users: Array<{ id: string; username: string; roles: string[]; is_disabled: boolean }>
}

/** The parent's environment without any TESSERA_* setting (an unknown one fails the config). */
function cleanEnv(settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('TESSERA_')) env[key] = value
  }
  return { ...env, ...settings }
}

function runProgram(program: string, args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [program, ...args], { cwd: projectRoot, env, stdio: 'pipe' })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input ?? '')
  })
}

/** A fresh data directory, removed after the test, and a runner bound to it. */
function createSandbox(t: TestContext, settings: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const env = cleanEnv({ TESSERA_DATA_DIR: dataDir, TESSERA_ARGON2_MEMORY_KIB: '19456', ...settings })
  return {
    dataDir,
    env,
    tessera: (args: string[], input?: string) => runProgram(cliPath, args, env, input),
    async listUsers(): Promise<UserListing> {
      const result = await runProgram(cliPath, ['user', 'list', '--json'], env)
      assert.equal(result.code, 0, result.stderr)
      return JSON.parse(result.stdout) as UserListing
    },
  }
}

describe('tessera user create and user list', () => {
  it('creates a user from a password piped on stdin, and user list shows it', async (t) => {
    const sandbox = createSandbox(t)
    const created = await sandbox.tessera(['user', 'create', 'alice'], `${password}\n`)
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stdout, /Created user alice with roles user/)

    const listed = await sandbox.tessera(['user', 'list'])
    assert.equal(listed.code, 0)
    assert.match(listed.stdout, /^USERNAME\s+ROLES\s+STATUS/)
    assert.match(listed.stdout, /\nalice\s+user\s+active\s/)

    const listing = await sandbox.listUsers()
    assert.deepEqual(
      listing.users.map(({ username, roles, is_disabled }) => ({ username, roles, is_disabled })),
      [{ username: 'alice', roles: ['user'], is_disabled: false }],
    )
  })

  it('creates an admin with --role admin, who keeps the user role', async (t) => {
    const sandbox = createSandbox(t)
    const created = await sandbox.tessera(
      ['user', 'create', 'root-admin', '--role', 'admin', '--json'],
      `${password}\n`,
    )
    assert.equal(created.code, 0, created.stderr)
    const user = JSON.parse(created.stdout) as { username: string; roles: string[] }
    assert.equal(user.username, 'root-admin')
    assert.deepEqual(user.roles, ['admin', 'user'])
  })

  it('never prints the password or its hash', async (t) => {
    const sandbox = createSandbox(t)
    const outputs = [
      await sandbox.tessera(['user', 'create', 'alice'], `${password}\n`),
      await sandbox.tessera(['user', 'list']),
      await sandbox.tessera(['user', 'list', '--json']),
      await sandbox.tessera(['user', 'create', 'alice'], `${password}\n`),
    ]
    for (const { stdout, stderr } of outputs) {
      assert.ok(!`${stdout}${stderr}`.includes(password))
      assert.ok(!`${stdout}${stderr}`.includes('$argon2id$'))
      assert.doesNotMatch(stdout, /hash/i)
    }
  })

  it('refuses a taken username, whatever its case, with exit code 1 and a clear message', async (t) => {
    const sandbox = createSandbox(t)
    assert.equal((await sandbox.tessera(['user', 'create', 'alice'], `${password}\n`)).code, 0)
    const duplicate = await sandbox.tessera(['user', 'create', 'ALICE'], `${password}\n`)
    assert.equal(duplicate.code, 1)
    assert.equal(duplicate.stderr, `Data directory: ${sandbox.dataDir}\ntessera: This username is already taken.\n`)
    assert.equal(duplicate.stdout, '')
    assert.equal((await sandbox.listUsers()).users.length, 1)
  })

  it('refuses a password shorter than the policy with exit code 1 and the rule, not the password', async (t) => {
    const sandbox = createSandbox(t)
    const result = await sandbox.tessera(['user', 'create', 'bob'], 'tooshort\n')
    assert.equal(result.code, 1)
    assert.match(result.stderr, /at least 15 characters long .*\(password_too_short\)/)
    assert.ok(!result.stderr.includes('tooshort'))
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace')
    assert.deepEqual((await sandbox.listUsers()).users, [])
  })

  it('refuses an invalid username with exit code 1', async (t) => {
    const sandbox = createSandbox(t)
    const result = await sandbox.tessera(['user', 'create', 'a b'], `${password}\n`)
    assert.equal(result.code, 1)
    assert.match(result.stderr, /\(invalid_username\)/)
  })

  it('exits with 1 when standard input holds no password', async (t) => {
    const sandbox = createSandbox(t)
    const result = await sandbox.tessera(['user', 'create', 'bob'], '')
    assert.equal(result.code, 1)
    assert.equal(
      result.stderr,
      `Data directory: ${sandbox.dataDir}\ntessera: No password was given on standard input.\n`,
    )
  })

  it('keeps the spaces around a piped password and strips only the line ending', async (t) => {
    const sandbox = createSandbox(t)
    const spaced = '  spaces count in this password  '
    assert.equal((await sandbox.tessera(['user', 'create', 'carol'], `${spaced}\r\nsecond line\n`)).code, 0)
    const config = loadConfig({ TESSERA_DATA_DIR: sandbox.dataDir })
    const quietIo = { stdout() {}, stderr() {}, readSecret: async () => '', isInteractive: false, env: {} }
    await withApplication(config, { io: quietIo, access: 'read' }, async ({ signIn }) => {
      const client = { transport: 'token' as const, ip: '192.0.2.1', userAgent: 'test', requestId: null }
      assert.equal((await signIn.signIn({ username: 'carol', password: spaced, ...client })).user.username, 'carol')
      await assert.rejects(signIn.signIn({ username: 'carol', password: spaced.trim(), ...client }), {
        code: 'invalid_credentials',
      })
    })
  })

  it('exits with 2 when the username is missing', async (t) => {
    const sandbox = createSandbox(t)
    const result = await sandbox.tessera(['user', 'create'], `${password}\n`)
    assert.equal(result.code, 2)
    assert.match(result.stderr, /missing <username>/)
    assert.match(result.stderr, /tessera help/)
  })

  it('refuses a password given as an argument with exit code 2, without echoing it', async (t) => {
    const sandbox = createSandbox(t)
    const result = await sandbox.tessera(['user', 'create', 'dave', 'hunter2hunter2hunter2'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /never taken as an argument/)
    assert.ok(!result.stderr.includes('hunter2'))
    assert.deepEqual(readdirSync(sandbox.dataDir), [], 'nothing was created')
  })

  it('refuses a --password option with exit code 2, without echoing its value', async (t) => {
    const sandbox = createSandbox(t)
    for (const args of [['--password=hunter2hunter2'], ['--password', 'hunter2hunter2'], ['-p', 'hunter2hunter2']]) {
      const result = await sandbox.tessera(['user', 'create', 'dave', ...args])
      assert.equal(result.code, 2, args.join(' '))
      assert.match(result.stderr, /never taken as an argument/)
      assert.ok(!result.stderr.includes('hunter2'))
    }
  })
})

describe('tessera role', () => {
  it('grant and revoke change the roles shown by user list --json', async (t) => {
    const sandbox = createSandbox(t)
    assert.equal((await sandbox.tessera(['user', 'create', 'erin'], `${password}\n`)).code, 0)
    const rolesOfErin = async () => (await sandbox.listUsers()).users.find((user) => user.username === 'erin')?.roles

    const granted = await sandbox.tessera(['role', 'grant', 'Erin', 'admin'])
    assert.equal(granted.code, 0, granted.stderr)
    assert.match(granted.stdout, /Granted admin to erin/)
    assert.deepEqual(await rolesOfErin(), ['admin', 'user'])

    const again = await sandbox.tessera(['role', 'grant', 'erin', 'admin'])
    assert.equal(again.code, 0)
    assert.match(again.stdout, /already has the role admin; nothing changed/)

    const revoked = await sandbox.tessera(['role', 'revoke', 'erin', 'user', '--json'])
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.deepEqual(JSON.parse(revoked.stdout).is_changed, true)
    assert.deepEqual(await rolesOfErin(), ['admin'])
  })

  it('exits with 1 for an unknown user', async (t) => {
    const sandbox = createSandbox(t)
    const result = await sandbox.tessera(['role', 'grant', 'nobody', 'admin'])
    assert.equal(result.code, 1)
    assert.equal(result.stderr, `Data directory: ${sandbox.dataDir}\ntessera: No user named "nobody".\n`)
  })

  it('exits with 1 for a role name that breaks the naming rule', async (t) => {
    const sandbox = createSandbox(t)
    assert.equal((await sandbox.tessera(['user', 'create', 'erin'], `${password}\n`)).code, 0)
    const result = await sandbox.tessera(['role', 'grant', 'erin', 'Not A Role'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /\(validation_failed\)/)
  })

  it('exits with 2 when the role or the subcommand is missing', async (t) => {
    const sandbox = createSandbox(t)
    assert.equal((await sandbox.tessera(['role', 'grant', 'erin'])).code, 2)
    assert.equal((await sandbox.tessera(['role'])).code, 2)
    assert.equal((await sandbox.tessera(['role', 'promote', 'erin', 'admin'])).code, 2)
  })
})

describe('tessera config check', () => {
  it('prints the effective settings and exits with 0', async (t) => {
    const sandbox = createSandbox(t, { TESSERA_PORT: '9191' })
    const result = await sandbox.tessera(['config', 'check'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /server\.port\s+9191\n/)
    const json = await sandbox.tessera(['config', 'check', '--json'])
    assert.equal((JSON.parse(json.stdout) as { server: { port: number } }).server.port, 9191)
  })

  it('exits with 1 and names every invalid setting, TESSERA_PORT among them', async (t) => {
    const sandbox = createSandbox(t, { TESSERA_PORT: 'abc', TESSERA_ARGON2_PASSES: '0' })
    const result = await sandbox.tessera(['config', 'check'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /TESSERA_PORT: expected a whole number/)
    assert.match(result.stderr, /TESSERA_ARGON2_PASSES: must be at least 1/)
    assert.equal(result.stdout, '')
  })

  it('stops user commands with exit code 1 on an invalid configuration', async (t) => {
    const sandbox = createSandbox(t, { TESSERA_PORT: 'abc' })
    const result = await sandbox.tessera(['user', 'list'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /TESSERA_PORT/)
  })
})

describe('the tessera command line', () => {
  it('exits with 2 on an unknown command', async (t) => {
    const result = await createSandbox(t).tessera(['frobnicate'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /unknown command "frobnicate"/)
  })

  it('exits with 2 on an unknown option', async (t) => {
    const result = await createSandbox(t).tessera(['user', 'list', '--colour'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /Unknown option '--colour'/)
  })

  it('exits with 2 and prints usage on stderr when no command is given', async (t) => {
    const result = await createSandbox(t).tessera([])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /^Usage: tessera <command>/)
  })

  it('prints help and the version with exit code 0', async (t) => {
    const sandbox = createSandbox(t)
    const help = await sandbox.tessera(['help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /user create <username>/)
    assert.equal((await sandbox.tessera(['user', '--help'])).code, 0)
    const version = await sandbox.tessera(['version', '--json'])
    const packageJson = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }
    assert.equal((JSON.parse(version.stdout) as { version: string }).version, packageJson.version)
  })
})

describe('bin/tessera.js', () => {
  it('runs the CLI on the project Node and passes its exit code through', async (t) => {
    const sandbox = createSandbox(t)
    const version = await runProgram(binPath, ['version'], sandbox.env)
    assert.equal(version.code, 0, version.stderr)
    assert.match(version.stdout, /^tessera \d+\.\d+\.\d+ \(Node\.js 2[4-9]\./)
    assert.equal((await runProgram(binPath, ['frobnicate'], sandbox.env)).code, 2)
    const created = await runProgram(binPath, ['user', 'create', 'frank'], sandbox.env, `${password}\n`)
    assert.equal(created.code, 0, created.stderr)
  })

  it('serve starts a server that accepts a CLI-created admin, and stops with 0 on SIGTERM', async (t) => {
    const sandbox = createSandbox(t, { TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'silent' })
    assert.equal((await sandbox.tessera(['user', 'create', 'root', '--role', 'admin'], `${password}\n`)).code, 0)

    // 1. Start through the shim and wait for the URL line.
    const child = spawn(process.execPath, [binPath, 'serve'], { cwd: projectRoot, env: sandbox.env, stdio: 'pipe' })
    t.after(() => child.kill('SIGKILL'))
    let stdout = ''
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk
        const match = /Tessera is listening on (\S+)\n/.exec(stdout)
        if (match?.[1]) resolve(match[1])
      })
      void exited.then(() => reject(new Error(`serve exited early:\n${stdout}${stderr}`)))
    })

    // 2. The admin created offline can sign in and use the admin API.
    const login = await fetch(`${url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'root', password }),
    })
    assert.equal(login.status, 200)
    const { access_token: accessToken } = (await login.json()) as { access_token: string }
    const users = await fetch(`${url}/v1/admin/users`, { headers: { authorization: `Bearer ${accessToken}` } })
    assert.equal(users.status, 200)

    // 3. SIGTERM to the shim reaches the server, which closes and exits cleanly.
    child.kill('SIGTERM')
    assert.equal(await exited, 0, stderr)
    assert.match(stderr, /Received SIGTERM; stopping: .*\nStopped\.\n/)
  })
})

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { loadConfig } from '../config/load.ts'
import { decodeBase32, generateTotp } from '../core/second-factor/totp.ts'
import { openRuntime } from '../runtime.ts'
import type { Io } from './io.ts'
import { runCli } from './main.ts'

const password = 'correct horse battery staple'

function createIo(t: TestContext) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-mfa-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const output = { stdout: '', stderr: '' }
  const io: Io = {
    env: { TESSERA_DATA_DIR: dataDir },
    isInteractive: false,
    stdout: (text) => void (output.stdout += text),
    stderr: (text) => void (output.stderr += text),
    readSecret: async () => password,
  }
  async function run(args: string[]) {
    output.stdout = ''
    output.stderr = ''
    const code = await runCli(args, io)
    return { code, ...output }
  }
  return { io, run }
}

/** Signs alice in and enrols a TOTP authenticator, as the API would. */
async function enrolAlice(io: Io): Promise<void> {
  const runtime = await openRuntime(loadConfig(io.env))
  try {
    const client = { ip: '192.0.2.1', userAgent: 'test', requestId: null }
    const signedIn = await runtime.application.signIn.signIn({
      username: 'alice',
      password,
      transport: 'token',
      ...client,
    })
    const principal = { user: signedIn.user, session: signedIn.session }
    const enrolment = await runtime.application.secondFactor.startTotpEnrolment(principal, client)
    const code = generateTotp(decodeBase32(enrolment.secret), Date.now())
    await runtime.application.secondFactor.confirmTotpEnrolment(principal, code, client)
  } finally {
    await runtime.close()
  }
}

describe('tessera user mfa and mfa-reset', () => {
  it('shows whether an account has a second factor, and resets it', async (t) => {
    const { io, run } = createIo(t)
    assert.equal((await run(['user', 'create', 'alice'])).code, 0)
    const before = await run(['user', 'mfa', 'alice', '--json'])
    assert.equal(before.code, 0, before.stderr)
    assert.deepEqual(
      { ...JSON.parse(before.stdout), id: null },
      {
        username: 'alice',
        id: null,
        enabled: false,
        enabled_at: null,
        recovery_codes_left: 0,
        passkeys: 0,
        required: false,
      },
    )
    await enrolAlice(io)
    const on = await run(['user', 'mfa', 'alice'])
    assert.match(on.stdout, /^alice: second factor on since .* \(10 recovery codes left\); 0 passkeys\.\n$/)
    const reset = await run(['user', 'mfa-reset', 'alice', '--json'])
    assert.equal(reset.code, 0, reset.stderr)
    assert.equal(JSON.parse(reset.stdout).sessions_ended, true)
    assert.equal(JSON.parse((await run(['user', 'mfa', 'alice', '--json'])).stdout).enabled, false)
    const missing = await run(['user', 'mfa-reset', 'nobody'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /No user named nobody/)
    assert.equal((await run(['user', 'mfa'])).code, 2)
  })
})

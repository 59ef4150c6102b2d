import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import type { Io } from './io.ts'
import { runCli } from './main.ts'

const password = 'correct horse battery staple'

function createIo(t: TestContext) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-email-'))
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
  return { run }
}

describe('tessera user email', () => {
  it('sets, shows and refuses an address another account holds', async (t) => {
    const { run } = createIo(t)
    assert.equal((await run(['user', 'create', 'alice'])).code, 0)
    assert.equal((await run(['user', 'create', 'bob'])).code, 0)
    assert.equal((await run(['user', 'email', 'show', 'alice'])).stdout, 'alice: no email address.\n')
    const set = await run(['user', 'email', 'set', 'alice', ' Alice@Example.COM ', '--verified', '--json'])
    assert.equal(set.code, 0, set.stderr)
    const view = JSON.parse(set.stdout)
    assert.deepEqual(
      { ...view, verified_at: typeof view.verified_at },
      { username: 'alice', email: 'Alice@example.com', verified: true, verified_at: 'string' },
    )
    assert.match((await run(['user', 'email', 'show', 'alice'])).stdout, /^alice: Alice@example\.com \(verified \d{4}-/)
    const taken = await run(['user', 'email', 'set', 'bob', 'alice@example.com'])
    assert.equal(taken.code, 1)
    assert.match(taken.stderr, /another account/)
    const bad = await run(['user', 'email', 'set', 'bob', 'not an address'])
    assert.equal(bad.code, 1)
    assert.equal((await run(['user', 'email', 'set', 'bob'])).code, 2)
    assert.equal((await run(['user', 'email', 'show', 'nobody'])).code, 1)
  })
})

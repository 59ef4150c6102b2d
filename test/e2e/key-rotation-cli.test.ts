/**
 * `tessera keys rotate` run beside a live server, on the same data directory: the server serves
 * the new key without a restart (it re-reads the keys every TESSERA_KEY_RELOAD_INTERVAL) and
 * signs with it once it activates.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { decodeProtectedHeader } from 'jose'
import type { Io } from '../../src/cli/io.ts'
import { runCli } from '../../src/cli/main.ts'
import { logInWithToken, registerUser, startTestServer } from '../helpers/test-server.ts'

const projectRoot = new URL('../..', import.meta.url).pathname

function createDataDir(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'tessera-keys-e2e-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  return join(root, 'data')
}

async function rotateWithCli(dataDir: string, extraArgs: string[] = []): Promise<string> {
  let stdout = ''
  const io: Io = {
    env: { TESSERA_DATA_DIR: dataDir },
    isInteractive: false,
    stdout: (text) => void (stdout += text),
    stderr: () => {},
    readSecret: async () => '',
  }
  assert.equal(await runCli(['keys', 'rotate', '--json', ...extraArgs], io), 0)
  return JSON.parse(stdout).key.kid
}

async function readKids(url: string): Promise<string[]> {
  const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }
  return jwks.keys.map((key) => key.kid)
}

describe('key rotation from the CLI', () => {
  it('reaches a running server at its next key reload, and signs after the activation delay', async (t) => {
    const dataDir = createDataDir(t)
    const server = await startTestServer(t, {}, { dataDir, clockStart: new Date() })
    const [oldKid] = await readKids(server.url)
    const newKid = await rotateWithCli(dataDir)
    assert.deepEqual(await readKids(server.url), [oldKid], 'not before the reload')
    await server.application.maintenance.reloadSigningKeys()
    assert.deepEqual(await readKids(server.url), [oldKid, newKid])
    const { username } = await registerUser(server)
    assert.equal(decodeProtectedHeader((await logInWithToken(server, username)).access_token).kid, oldKid)
    // The CLI stamped the key with the real time, some time after the test server's clock started.
    server.clock.advanceSeconds(server.config.tokens.keyActivationDelaySeconds + 60)
    assert.equal(decodeProtectedHeader((await logInWithToken(server, username)).access_token).kid, newKid)
  })

  it('--emergency replaces every key: after the reload the old tokens are refused and the new key signs', async (t) => {
    const dataDir = createDataDir(t)
    const server = await startTestServer(t, {}, { dataDir, clockStart: new Date() })
    const { username } = await registerUser(server)
    const before = (await logInWithToken(server, username)).access_token
    const newKid = await rotateWithCli(dataDir, ['--emergency'])
    // The CLI stamps the change with the real time, which the test server's clock has not reached.
    server.clock.advanceSeconds(60)
    await server.application.maintenance.reloadSigningKeys()
    assert.deepEqual(await readKids(server.url), [newKid])
    assert.equal((await server.request('/v1/me', { bearer: before })).status, 401)
    assert.equal(decodeProtectedHeader((await logInWithToken(server, username)).access_token).kid, newKid)
  })

  it('is picked up by a server started with `tessera serve` without a restart', async (t) => {
    const dataDir = createDataDir(t)
    const child = spawn(process.execPath, ['src/cli/main.ts', 'serve'], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH ?? '',
        TESSERA_DATA_DIR: dataDir,
        TESSERA_PORT: '0',
        TESSERA_KEY_RELOAD_INTERVAL: '1s',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGTERM')
    })
    const url = await new Promise<string>((resolve, reject) => {
      let output = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk
        const match = /listening on (http:\/\/\S+)/.exec(output)
        if (match?.[1]) resolve(match[1])
      })
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)))
    })
    const [oldKid] = await readKids(url)
    const newKid = await rotateWithCli(dataDir)
    // The reload runs every second; give it a few.
    const deadline = Date.now() + 10_000
    let kids = await readKids(url)
    while (kids.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      kids = await readKids(url)
    }
    assert.deepEqual(kids, [oldKid, newKid])
  })
})

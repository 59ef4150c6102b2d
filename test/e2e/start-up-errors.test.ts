/**
 * A start that cannot succeed ends promptly, with a non-zero status and one message that names
 * the setting or the file to fix, as an operator starting `node src/main.ts` (what `npm start`
 * runs) sees it.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/load.ts'
import { openRuntime } from '../../src/runtime.ts'
import { cleanProcessEnv } from '../helpers/tessera-process.ts'

const projectRoot = fileURLToPath(new URL('../..', import.meta.url))

interface Ended {
  code: number | null
  output: string
  elapsedMs: number
}

/** Starts the server and waits for it to end (it must: every case here is fatal). */
function startAndWaitForExit(settings: Record<string, string>): Promise<Ended> {
  const startedAt = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/main.ts'], {
      cwd: projectRoot,
      env: cleanProcessEnv({ TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'warn', ...settings }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    // A start that does not end is a failure of its own: it would hang a process manager.
    const watchdog = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`still running after 30 s:\n${output}`))
    }, 30_000)
    child.once('exit', (code) => {
      clearTimeout(watchdog)
      resolve({ code, output, elapsedMs: performance.now() - startedAt })
    })
  })
}

function createRoot(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'tessera-start-errors-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  return root
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

function assertFailedNaming(t: TestContext, ended: Ended, pattern: RegExp): void {
  t.diagnostic(`ended with ${ended.code} after ${Math.round(ended.elapsedMs)} ms`)
  assert.notEqual(ended.code, 0, ended.output)
  assert.match(ended.output, pattern)
  assert.doesNotMatch(ended.output, /at .*\.ts:\d+/, 'no stack trace')
}

describe('start-up errors', () => {
  it('junk in the TLS certificate file names TESSERA_TLS_CERT and the file', async (t) => {
    const root = createRoot(t)
    const certFile = join(root, 'cert.pem')
    const keyFile = join(root, 'key.pem')
    writeFileSync(certFile, 'not a certificate\n')
    writeFileSync(keyFile, 'not a key either\n')
    const ended = await startAndWaitForExit({
      TESSERA_DATA_DIR: join(root, 'data'),
      TESSERA_TLS_CERT: certFile,
      TESSERA_TLS_KEY: keyFile,
    })
    assertFailedNaming(t, ended, new RegExp(`TESSERA_TLS_CERT: ${certFile} does not hold a PEM certificate`))
    assert.match(ended.output, new RegExp(`TESSERA_TLS_KEY: ${keyFile} does not hold`))
  })

  it('a corrupt database names the file and what to do', async (t) => {
    const root = createRoot(t)
    const dataDir = join(root, 'data')
    await (await openRuntime(loadConfig({ TESSERA_DATA_DIR: dataDir }))).close()
    writeFileSync(join(dataDir, 'tessera.db'), 'garbage where the pages were '.repeat(200), { mode: 0o600 })
    const ended = await startAndWaitForExit({ TESSERA_DATA_DIR: dataDir })
    assertFailedNaming(
      t,
      ended,
      new RegExp(`${join(dataDir, 'tessera.db')} is not a readable SQLite database .*Restore it from a backup`),
    )
  })

  it('a missing bootstrap password file names TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE and the path', async (t) => {
    const root = createRoot(t)
    const missing = join(root, 'secrets', 'admin-password')
    const ended = await startAndWaitForExit({
      TESSERA_DATA_DIR: join(root, 'data'),
      TESSERA_BOOTSTRAP_ADMIN_USERNAME: 'alice',
      TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: missing,
    })
    assertFailedNaming(
      t,
      ended,
      new RegExp(`TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: cannot read ${missing} \\(ENOENT\\)`),
    )
  })

  it('an unresolvable host names TESSERA_HOST as such, not the plain-HTTP cookie rule', async (t) => {
    const root = createRoot(t)
    const ended = await startAndWaitForExit({
      TESSERA_DATA_DIR: join(root, 'data'),
      TESSERA_HOST: 'no-such-host.invalid',
    })
    assertFailedNaming(t, ended, /TESSERA_HOST: "no-such-host\.invalid" does not resolve on this machine/)
    assert.doesNotMatch(ended.output, /plain HTTP/)
  })

  it('a host name that resolves beyond loopback still meets the plain-HTTP cookie rule', async (t) => {
    const root = createRoot(t)
    // No DNS here: getaddrinfo resolves the classic number form of 192.168.1.1 as a name would.
    const ended = await startAndWaitForExit({ TESSERA_DATA_DIR: join(root, 'data'), TESSERA_HOST: '3232235777' })
    assertFailedNaming(t, ended, /TESSERA_HOST: session cookies would travel over plain HTTP/)
    // And a name for loopback addresses is loopback.
    const { checkListenHost } = await import('../../src/config/start-checks.ts')
    await checkListenHost(loadConfig({ TESSERA_DATA_DIR: join(root, 'data'), TESSERA_HOST: '2130706433' }))
  })

  it('an unreachable Redis names TESSERA_REDIS_URL once, without a line per reconnection', async (t) => {
    const root = createRoot(t)
    const port = await findFreePort()
    const ended = await startAndWaitForExit({
      TESSERA_DATA_DIR: join(root, 'data'),
      TESSERA_REDIS_URL: `redis://127.0.0.1:${port}`,
    })
    assertFailedNaming(
      t,
      ended,
      new RegExp(
        `TESSERA_REDIS_URL: Redis at redis://127\\.0\\.0\\.1:${port} could not be reached within \\d+ ms \\(last error: .*ECONNREFUSED`,
      ),
    )
    assert.doesNotMatch(ended.output, /backend connection error/)
    assert.equal(ended.output.match(/ECONNREFUSED/g)?.length, 1)
  })

  it('an unreachable PostgreSQL names TESSERA_DATABASE_URL, without its password', async (t) => {
    const root = createRoot(t)
    const port = await findFreePort()
    const ended = await startAndWaitForExit({
      TESSERA_DATA_DIR: join(root, 'data'),
      TESSERA_DATABASE_URL: `postgres://tessera:pg-secret@127.0.0.1:${port}/tessera`,
    })
    assertFailedNaming(
      t,
      ended,
      new RegExp(
        `TESSERA_DATABASE_URL: PostgreSQL at postgres://tessera:\\*\\*\\*@127\\.0\\.0\\.1:${port}/tessera is not reachable`,
      ),
    )
    assert.doesNotMatch(ended.output, /pg-secret/)
  })
})

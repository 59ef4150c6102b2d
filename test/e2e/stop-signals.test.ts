/**
 * Stopping Tessera started with the README's own command (`npm start`), as a process manager or
 * a terminal does: SIGTERM or SIGINT to the npm process alone, and Ctrl-C to the whole process
 * group. The server must finish the request in progress, close its stores, free the port and
 * leave no process behind, within a bounded time.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { allocatorSettings, defaultAllocatorSettings } from '../../bin/allocator-settings.js'
import { cleanProcessEnv } from '../helpers/tessera-process.ts'

const projectRoot = new URL('../..', import.meta.url).pathname

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

interface NpmStart {
  npm: ChildProcess
  port: number
  dataDir: string
  output(): string
  exited: Promise<number | null>
}

/** `npm start` in its own process group (as a service manager runs it), on a scratch data dir. */
async function startWithNpm(t: TestContext, settings: Record<string, string> = {}): Promise<NpmStart> {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-stop-')), 'data')
  const port = await findFreePort()
  let output = ''
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: projectRoot,
    env: cleanProcessEnv({
      TESSERA_DATA_DIR: dataDir,
      TESSERA_PORT: String(port),
      TESSERA_LOG_LEVEL: 'warn',
      ...settings,
    }),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)))
  t.after(() => {
    // Whatever the outcome, leave nothing running.
    if (isGroupAlive(npm.pid ?? 0)) process.kill(-(npm.pid ?? 0), 'SIGKILL')
    rmSync(join(dataDir, '..'), { recursive: true, force: true })
  })
  npm.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  npm.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (npm.exitCode !== null) throw new Error(`npm start exited early:\n${output}`)
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok)
        return { npm, port, dataDir, output: () => output, exited }
    } catch {
      // Not listening yet.
    }
    await sleep(100)
  }
  throw new Error(`npm start did not become healthy:\n${output}`)
}

function isGroupAlive(groupId: number): boolean {
  try {
    process.kill(-groupId, 0)
    return true
  } catch {
    return false
  }
}

/** The command lines of the processes of a group, for failure messages. */
function describeGroup(groupId: number): string {
  try {
    return execFileSync('ps', ['-o', 'pid=,ppid=,args=', '-g', String(groupId)], { encoding: 'utf8' })
  } catch {
    return '(none)'
  }
}

async function waitForGroupToEnd(groupId: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isGroupAlive(groupId)) {
    if (Date.now() > deadline) return false
    await sleep(20)
  }
  return true
}

function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * A registration in progress: the server has read its headers (it answered `100 Continue`) and
 * its first body bytes; `finish()` sends the rest and returns the answer.
 */
async function beginRegistration(port: number): Promise<{ finish(): Promise<string> }> {
  const body = JSON.stringify({ username: 'in_flight', password: 'correct horse battery staple' })
  const socket: Socket = connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('error', reject))
  let answer = ''
  const closed = new Promise<void>((resolve) => {
    socket.on('data', (data) => (answer += data.toString('utf8')))
    socket.on('close', () => resolve())
    socket.on('error', () => resolve())
  })
  socket.write(
    `POST /v1/auth/register HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
      `expect: 100-continue\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`,
  )
  const deadline = Date.now() + 5000
  while (!answer.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
    if (Date.now() > deadline) throw new Error(`no 100 Continue: ${answer}`)
    await sleep(5)
  }
  answer = ''
  socket.write(body.slice(0, 10))
  return {
    async finish() {
      socket.write(body.slice(10))
      await Promise.race([closed, sleep(10_000)])
      socket.destroy()
      return answer
    },
  }
}

function hasOpenDatabaseFiles(dataDir: string): boolean {
  // SQLite removes the -wal and -shm files when the last connection closes cleanly.
  return readdirSync(dataDir).some((file) => file.endsWith('-wal') || file.endsWith('-shm'))
}

describe('stopping the README start command', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to the npm process finishes the request in progress, closes the stores and leaves nothing running`, async (t) => {
      const started = await startWithNpm(t)
      const groupId = started.npm.pid ?? 0
      const inFlight = await beginRegistration(started.port)

      const signalledAt = performance.now()
      process.kill(groupId, signal)
      await sleep(300)
      const answer = await inFlight.finish()
      assert.match(answer, /^HTTP\/1\.1 201 /, `the request in progress is answered:\n${answer}\n${started.output()}`)

      const isGone = await waitForGroupToEnd(groupId, 20_000)
      const stoppedMs = performance.now() - signalledAt
      assert.ok(isGone, `processes left after ${signal}:\n${describeGroup(groupId)}\n${started.output()}`)
      t.diagnostic(`${signal}: every process of the group gone ${Math.round(stoppedMs)} ms after the signal`)
      assert.equal(await isPortOpen(started.port), false, 'the port is closed')
      assert.equal(hasOpenDatabaseFiles(started.dataDir), false, 'the database was closed cleanly')
      assert.match(started.output(), new RegExp(`Received ${signal}; stopping`))
      assert.match(started.output(), /stopped\./)
    })
  }

  it('Ctrl-C at a terminal (SIGINT to the whole group, forwarded once more by npm) still stops cleanly', async (t) => {
    const started = await startWithNpm(t)
    const groupId = started.npm.pid ?? 0
    process.kill(-groupId, 'SIGINT')
    assert.ok(await waitForGroupToEnd(groupId, 20_000), `processes left:\n${describeGroup(groupId)}`)
    assert.equal(await isPortOpen(started.port), false)
    assert.equal(hasOpenDatabaseFiles(started.dataDir), false, 'the database was closed cleanly')
    assert.match(started.output(), /stopped\./)
  })

  it('a stop held up by a stalled request ends at TESSERA_SHUTDOWN_TIMEOUT with a non-zero status', async (t) => {
    const started = await startWithNpm(t, { TESSERA_SHUTDOWN_TIMEOUT: '1s', TESSERA_REQUEST_TIMEOUT: '60s' })
    const groupId = started.npm.pid ?? 0
    // Never finished: the body stays incomplete until the process is gone.
    await beginRegistration(started.port)
    process.kill(groupId, 'SIGTERM')
    assert.ok(await waitForGroupToEnd(groupId, 20_000), `processes left:\n${describeGroup(groupId)}`)
    assert.notEqual(await started.exited, 0)
    assert.match(started.output(), /did not finish within 1 s \(TESSERA_SHUTDOWN_TIMEOUT\)/)
    assert.equal(await isPortOpen(started.port), false)
  })
})

/** The environment of the server process of an `npm start` group (the node running src/main.ts). */
function readServerEnvironment(groupId: number): Map<string, string> {
  const processes = execFileSync('ps', ['-o', 'pid=,args=', '-g', String(groupId)], { encoding: 'utf8' })
  const server = processes.split('\n').find((line) => line.includes('src/main.ts'))
  const pid = server?.trim().split(/\s+/)[0]
  assert.ok(pid, `no server process in the group:\n${processes}`)
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]))
}

describe("glibc's allocator settings of the README start command", () => {
  it('runs the server with the settings bin/tessera.js and the benchmarks use, and keeps an operator’s own', async (t) => {
    const started = await startWithNpm(t)
    const environment = readServerEnvironment(started.npm.pid ?? 0)
    // The defaults, unless this test's own environment sets either (then that one wins, as below).
    for (const [name, value] of Object.entries(allocatorSettings(process.env)))
      assert.equal(environment.get(name), value)
    assert.deepEqual(allocatorSettings({}), defaultAllocatorSettings)

    const operatorOwn = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2', MALLOC_MMAP_THRESHOLD_: '4194304' }
    const tuned = await startWithNpm(t, operatorOwn)
    const tunedEnvironment = readServerEnvironment(tuned.npm.pid ?? 0)
    for (const [name, value] of Object.entries(operatorOwn)) assert.equal(tunedEnvironment.get(name), value)
    assert.deepEqual(allocatorSettings(operatorOwn), operatorOwn)
  })
})

/**
 * Starts Tessera exactly as the README says (`npm start`, configured by environment only) on a
 * fresh data directory, talks to it over HTTP, restarts it, and looks at what it left on disk.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'

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

interface Started {
  child: ChildProcess
  url: string
  output: () => string
}

async function startWithNpm(env: Record<string, string>): Promise<Started> {
  const port = await findFreePort()
  let output = ''
  const child = spawn('npm', ['start', '--silent'], {
    cwd: projectRoot,
    env: { ...process.env, ...env, TESSERA_PORT: String(port) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`)
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url, output: () => output }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  stop({ child, url, output: () => output })
  throw new Error(`server did not become healthy:\n${output}`)
}

function isGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

async function stop(started: Started): Promise<void> {
  const pid = started.child.pid
  if (started.child.exitCode !== null || pid === undefined) return
  const exited = new Promise((resolve) => started.child.once('exit', resolve))
  // npm runs node in a child; signal the whole process group.
  process.kill(-pid, 'SIGTERM')
  await exited
  // npm may exit before the server it started has closed the database (and removed its -wal
  // file); wait for the whole group, so the files looked at next are the final ones.
  const deadline = Date.now() + 10_000
  while (isGroupAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
}

/**
 * npm may exit before the server it started has closed its database; SQLite removes the -wal
 * and -shm files on a clean close, so their absence says the files on disk are final.
 */
async function waitForDatabaseClosed(dataDir: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (readdirSync(dataDir).some((file) => file.endsWith('-wal') || file.endsWith('-shm'))) {
    if (Date.now() > deadline) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function post(url: string, body: unknown, bearer?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json().catch(() => null)) as any }
}

describe('the README start command', () => {
  it('serves the whole basic flow on the embedded default and keeps its data and key across restarts', async (t) => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-e2e-')), 'data')
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const password = 'the quick brown fox jumps 42'

    const first = await startWithNpm({ TESSERA_DATA_DIR: dataDir })
    let kid: string
    let refreshToken: string
    try {
      assert.equal((await post(`${first.url}/v1/auth/register`, { username: 'Player_One', password })).status, 201)
      const login = await post(`${first.url}/v1/auth/login`, { username: 'player_one', password })
      assert.equal(login.status, 200)
      refreshToken = login.json.refresh_token
      const me = await fetch(`${first.url}/v1/me`, { headers: { authorization: `Bearer ${login.json.access_token}` } })
      assert.equal(me.status, 200)
      kid =
        ((await (await fetch(`${first.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys[0]
          ?.kid ?? ''
      assert.equal((await post(`${first.url}/v1/auth/logout`, {}, login.json.access_token)).status, 204)
      const after = await fetch(`${first.url}/v1/me`, {
        headers: { authorization: `Bearer ${login.json.access_token}` },
      })
      assert.equal(after.status, 401)
    } finally {
      await stop(first)
    }
    assert.doesNotMatch(first.output(), new RegExp(password))
    await waitForDatabaseClosed(dataDir)

    // On disk: a private directory, private files, only hashes of secrets.
    assert.equal(statSync(dataDir).mode & 0o777, 0o700)
    for (const file of readdirSync(dataDir)) {
      assert.equal(statSync(join(dataDir, file)).mode & 0o077, 0, file)
    }
    const bytes = Buffer.concat(readdirSync(dataDir).map((file) => readFileSync(join(dataDir, file))))
    assert.ok(!bytes.includes(password), 'no plaintext password on disk')
    assert.ok(!bytes.includes(refreshToken), 'no raw refresh token on disk')
    assert.ok(!bytes.includes(Buffer.from(refreshToken, 'base64url')), 'no decoded refresh token on disk')

    // A restart with stronger hashing parameters reuses the key and upgrades the hash at login.
    const second = await startWithNpm({ TESSERA_DATA_DIR: dataDir, TESSERA_ARGON2_MEMORY_KIB: '24576' })
    try {
      const jwks = (await (await fetch(`${second.url}/.well-known/jwks.json`)).json()) as {
        keys: Array<{ kid: string }>
      }
      assert.deepEqual(
        jwks.keys.map((key: { kid: string }) => key.kid),
        [kid],
      )
      assert.equal((await post(`${second.url}/v1/auth/login`, { username: 'PLAYER_ONE', password })).status, 200)
      const db = new DatabaseSync(join(dataDir, 'tessera.db'), { readOnly: true })
      const row = db.prepare("SELECT password_hash FROM users WHERE username_key = 'player_one'").get()
      db.close()
      assert.match(String(row?.password_hash), /^\$argon2id\$v=19\$m=24576,t=2,p=1\$/)
      assert.equal((await post(`${second.url}/v1/auth/login`, { username: 'player_one', password })).status, 200)
    } finally {
      await stop(second)
    }
  })

  it('refuses to start with an invalid setting and names it', async () => {
    const child = spawn('npm', ['start', '--silent'], {
      cwd: projectRoot,
      env: { ...process.env, TESSERA_PORT: 'eighty', TESSERA_SESSION_IDLE_TIMEOUT: 'soon' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    assert.notEqual(code, 0)
    assert.match(output, /TESSERA_PORT/)
    assert.match(output, /TESSERA_SESSION_IDLE_TIMEOUT/)
  })
})

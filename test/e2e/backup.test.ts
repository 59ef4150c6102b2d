/**
 * `tessera backup` beside a serving Tessera under write load, then the documented restore: the
 * backup directory becomes the data directory of a new server, which must hold every
 * registration acknowledged before the backup began and serve with the same signing key.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { cleanProcessEnv, startTesseraProcess } from '../helpers/tessera-process.ts'

const projectRoot = fileURLToPath(new URL('../..', import.meta.url))
const cliPath = join(projectRoot, 'src/cli/main.ts')
const password = 'correct horse battery staple'
// The cheapest argon2id the settings allow: the load is writes, not hashing.
const cheapHashing = { TESSERA_ARGON2_MEMORY_KIB: '12288', TESSERA_ARGON2_PASSES: '3' }

function runTessera(args: string[], dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: projectRoot,
      env: cleanProcessEnv({ TESSERA_DATA_DIR: dataDir, ...cheapHashing }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function register(url: string, username: string): Promise<boolean> {
  const response = await fetch(`${url}/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  await response.arrayBuffer()
  return response.status === 201
}

describe('tessera backup', () => {
  it('copies a serving database under write load; the restored copy holds every write acknowledged before it began', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'tessera-backup-'))
    t.after(() => rmSync(root, { recursive: true, force: true }))
    const dataDir = join(root, 'data')
    const backupDir = join(root, 'backups', 'first')

    // Registrations from one address are slowed after ten: the load has to go on through the backup.
    const server = await startTesseraProcess({
      TESSERA_DATA_DIR: dataDir,
      TESSERA_THROTTLE_REGISTER_THRESHOLD: '100000',
      ...cheapHashing,
    })
    t.after(() => server.stop())
    const kid = (
      (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }
    ).keys[0]?.kid

    // 1. Four clients register users without pause; each acknowledgement is timed.
    const acknowledged: Array<{ username: string; at: number }> = []
    let isLoading = true
    let sequence = 0
    const clients = Array.from({ length: 4 }, async () => {
      while (isLoading) {
        sequence += 1
        const username = `loaded_${sequence}`
        if (await register(server.url, username)) acknowledged.push({ username, at: performance.now() })
      }
    })
    while (acknowledged.length < 20) await new Promise((resolve) => setTimeout(resolve, 20))

    // 2. The backup, while the clients go on.
    const backupBeganAt = performance.now()
    const backup = await runTessera(['backup', backupDir, '--json'], dataDir)
    const backupEndedAt = performance.now()
    const writesDuringBackup = acknowledged.filter(
      (write) => write.at > backupBeganAt && write.at < backupEndedAt,
    ).length
    isLoading = false
    await Promise.all(clients)
    await server.stop()
    assert.equal(backup.code, 0, backup.stderr)
    assert.match(backup.stderr, new RegExp(`^Data directory: ${dataDir}\\n`))
    const summary = JSON.parse(backup.stdout) as { duration_ms: number; database_bytes: number }
    t.diagnostic(
      `backup of ${summary.database_bytes} bytes took ${summary.duration_ms} ms inside the command, ` +
        `${Math.round(backupEndedAt - backupBeganAt)} ms with the process start; ${writesDuringBackup} registrations ` +
        `were acknowledged meanwhile, ${acknowledged.length} in all`,
    )
    assert.ok(writesDuringBackup > 0, 'the server kept writing during the backup')

    // 3. What it made: a private directory holding the database and its key, nothing else.
    assert.deepEqual(readdirSync(backupDir).sort(), ['master.key', 'tessera.db'])
    assert.equal(statSync(backupDir).mode & 0o777, 0o700)
    for (const file of readdirSync(backupDir)) assert.equal(statSync(join(backupDir, file)).mode & 0o777, 0o600, file)

    // 4. The documented restore: the backup directory becomes the data directory.
    const restoredDir = join(root, 'restored')
    renameSync(backupDir, restoredDir)
    const listing = await runTessera(['user', 'list', '--json'], restoredDir)
    assert.equal(listing.code, 0, listing.stderr)
    const restored = new Set(
      (JSON.parse(listing.stdout) as { users: Array<{ username: string }> }).users.map((user) => user.username),
    )
    const before = acknowledged.filter((write) => write.at < backupBeganAt)
    const missing = before.filter((write) => !restored.has(write.username))
    assert.deepEqual(missing, [], 'every registration acknowledged before the backup began is in it')
    t.diagnostic(
      `${before.length} registrations acknowledged before the backup, all restored; ${restored.size} users in the backup`,
    )

    const revived = await startTesseraProcess({ TESSERA_DATA_DIR: restoredDir, ...cheapHashing })
    t.after(() => revived.stop())
    const jwks = (await (await fetch(`${revived.url}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>
    }
    assert.deepEqual(
      jwks.keys.map((key) => key.kid),
      [kid],
      'the same signing key, opened with the restored master.key',
    )
    const login = await fetch(`${revived.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: before[0]?.username, password }),
    })
    assert.equal(login.status, 200)
  })

  it('refuses an existing target directory and a data directory without a database', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'tessera-backup-'))
    t.after(() => rmSync(root, { recursive: true, force: true }))
    const empty = await runTessera(['backup', join(root, 'copy')], join(root, 'nothing'))
    assert.equal(empty.code, 1)
    assert.match(empty.stderr, /There is no database at .*nothing\/tessera\.db: nothing to back up/)
    const created = await runTessera(['user', 'list'], join(root, 'nothing'))
    assert.equal(created.code, 1)

    const dataDir = join(root, 'data')
    const server = await startTesseraProcess({ TESSERA_DATA_DIR: dataDir })
    await server.stop()
    const taken = await runTessera(['backup', root], dataDir)
    assert.equal(taken.code, 1)
    assert.match(taken.stderr, /already exists; name a new directory/)
    assert.equal((await runTessera(['backup'], dataDir)).code, 2)
  })
})

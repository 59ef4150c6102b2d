/**
 * The data directory as an operator finds it: copied with loose permissions, missing its key,
 * holding another installation's key, or not there at all because a command runs elsewhere.
 */
import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { randomBytes } from 'node:crypto'
import { runCli } from '../../src/cli/main.ts'
import type { Io } from '../../src/cli/io.ts'
import { loadConfig } from '../../src/config/load.ts'
import { openRuntime } from '../../src/runtime.ts'
import { readMasterKey } from '../../src/storage/master-key.ts'
import { openSqliteStores, sqliteFileName } from '../../src/storage/sqlite/open.ts'

const epoch = new Date('2026-01-01T00:00:00Z')

function createRoot(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'tessera-data-dir-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  return root
}

function configFor(dataDir: string) {
  return loadConfig({ TESSERA_DATA_DIR: dataDir, TESSERA_LOG_LEVEL: 'silent' })
}

/** A data directory with a database and its key, as a first start leaves it. */
async function createInstallation(t: TestContext): Promise<string> {
  const dataDir = join(createRoot(t), 'data')
  await (await openRuntime(configFor(dataDir))).close()
  return dataDir
}

function createIo(env: Record<string, string>): Io & { output: { stdout: string; stderr: string } } {
  const output = { stdout: '', stderr: '' }
  return {
    output,
    env,
    isInteractive: false,
    stdout: (text) => void (output.stdout += text),
    stderr: (text) => void (output.stderr += text),
    readSecret: async () => {
      throw new Error('no secret is read here')
    },
  }
}

describe('permissions of the data directory', () => {
  it('a fresh data directory is 0700 and its files 0600', async (t) => {
    const dataDir = await createInstallation(t)
    const { statSync } = await import('node:fs')
    assert.equal(statSync(dataDir).mode & 0o777, 0o700)
    for (const file of readdirSync(dataDir)) assert.equal(statSync(join(dataDir, file)).mode & 0o077, 0, file)
  })

  it('refuses a data directory open to group or others, naming it and the chmod that fixes it', async (t) => {
    const dataDir = await createInstallation(t)
    chmodSync(dataDir, 0o755)
    const expected = new RegExp(`${dataDir} is open to group or others \\(mode 0755\\).*chmod 700 '${dataDir}'`)
    assert.throws(() => openSqliteStores(dataDir, epoch), expected)
    await assert.rejects(openRuntime(configFor(dataDir)), expected)
    // Even when only the key lives there (PostgreSQL holds the data).
    assert.throws(() => readMasterKey(join(dataDir, 'master.key')), expected)
  })

  it('refuses a database file, or its WAL, readable by others', async (t) => {
    const dataDir = await createInstallation(t)
    const database = join(dataDir, sqliteFileName)
    chmodSync(database, 0o644)
    assert.throws(
      () => openSqliteStores(dataDir, epoch),
      new RegExp(`${database} is open to group or others \\(mode 0644\\).*chmod 600 '${database}'`),
    )
    chmodSync(database, 0o600)
    writeFileSync(`${database}-wal`, '', { mode: 0o644 })
    chmodSync(`${database}-wal`, 0o644)
    assert.throws(() => openSqliteStores(dataDir, epoch), /tessera\.db-wal is open to group or others.*chmod 600/)
    rmSync(`${database}-wal`)
    await (await openRuntime(configFor(dataDir))).close()
  })

  it('refuses a master.key readable by the group', async (t) => {
    const dataDir = await createInstallation(t)
    chmodSync(join(dataDir, 'master.key'), 0o640)
    await assert.rejects(
      openRuntime(configFor(dataDir)),
      /master\.key is open to group or others \(mode 0640\).*chmod 600/,
    )
  })
})

describe('master.key and its database', () => {
  it('never creates a key beside a database that lost its own, and says which file is missing', async (t) => {
    const dataDir = await createInstallation(t)
    const keyPath = join(dataDir, 'master.key')
    renameSync(keyPath, join(dataDir, '..', 'kept.key'))
    await assert.rejects(openRuntime(configFor(dataDir)), (error: Error) => {
      assert.match(error.message, new RegExp(`${join(dataDir, sqliteFileName)} exists but ${keyPath} is missing`))
      assert.match(error.message, /Put that master\.key back/)
      return true
    })
    assert.equal(existsSync(keyPath), false, 'no key was written')
    renameSync(join(dataDir, '..', 'kept.key'), keyPath)
    await (await openRuntime(configFor(dataDir))).close()
  })

  it('names the key that does not open the stored signing keys instead of a cipher error', async (t) => {
    const dataDir = await createInstallation(t)
    const keyPath = join(dataDir, 'master.key')
    writeFileSync(keyPath, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 })
    await assert.rejects(openRuntime(configFor(dataDir)), (error: Error) => {
      assert.match(
        error.message,
        new RegExp(`${keyPath} does not open the signing keys stored in ${join(dataDir, sqliteFileName)}`),
      )
      assert.doesNotMatch(error.message, /Unsupported state/)
      return true
    })
  })
})

describe('commands run away from the data', () => {
  it('a reading command does not create a data directory, and names the one it looked for', async (t) => {
    const missing = join(createRoot(t), 'elsewhere', 'data')
    for (const args of [
      ['user', 'list'],
      ['audit', 'query'],
      ['keys', 'list'],
      ['client', 'list'],
      ['audit', 'alerts'],
    ]) {
      const io = createIo({ TESSERA_DATA_DIR: missing })
      assert.equal(await runCli(args, io), 1, args.join(' '))
      assert.match(
        io.output.stderr,
        new RegExp(`There is no data directory at ${missing} \\(TESSERA_DATA_DIR`),
        args.join(' '),
      )
      assert.equal(io.output.stdout, '', 'never "No users."')
      assert.equal(existsSync(missing), false, args.join(' '))
    }
  })

  it('a reading command refuses an empty directory without creating a key or a database in it', async (t) => {
    const empty = join(createRoot(t), 'data')
    mkdirSync(empty, { mode: 0o700 })
    const io = createIo({ TESSERA_DATA_DIR: empty })
    assert.equal(await runCli(['user', 'list'], io), 1)
    assert.deepEqual(readdirSync(empty), [])
  })

  it('every command that opens the data says which data directory it uses', async (t) => {
    const dataDir = await createInstallation(t)
    const io = createIo({ TESSERA_DATA_DIR: dataDir })
    assert.equal(await runCli(['user', 'list'], io), 0)
    assert.equal(io.output.stderr, `Data directory: ${dataDir}\n`)
    assert.equal(io.output.stdout, 'No users.\n')
  })
})

/**
 * The SQLite database file, its migrations, the master key file and secrets at rest. The store
 * contract runs in sqlite-contract-*.test.ts, one file per way of opening, side by side.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, describe, it } from 'node:test'
import { createApplication } from '../../src/core/application/application.ts'
import { hashToken } from '../../src/core/secrets.ts'
import { buildAuditEventRecord, contractEpoch } from '../../src/storage/contract/records.ts'
import { loadOrCreateMasterKey } from '../../src/storage/master-key.ts'
import { migrateSqlite } from '../../src/storage/sqlite/migrate.ts'
import { openSqliteStores, sqliteFileName } from '../../src/storage/sqlite/open.ts'
import { createManualClock } from '../helpers/manual-clock.ts'
import { listShippedMigrations } from '../helpers/migrations.ts'
import { buildTestApplicationSettings } from '../helpers/core-settings.ts'

const root = mkdtempSync(join(tmpdir(), 'tessera-sqlite-test-'))
after(() => rmSync(root, { recursive: true, force: true }))

function createDataDir(): string {
  return join(mkdtempSync(join(root, 'case-')), 'data')
}

function readMode(path: string): number {
  return statSync(path).mode & 0o777
}

const argon2PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22,}\$[A-Za-z0-9+/]{43,}$/

const coreSettings = buildTestApplicationSettings()

describe('SQLite database file', () => {
  it('openSqliteStores() creates the data directory 0700 and the database file 0600', async (t) => {
    const dataDir = createDataDir()
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    assert.equal(readMode(dataDir), 0o700)
    assert.equal(readMode(join(dataDir, sqliteFileName)), 0o600)
  })

  it("openSqliteStores() gives the write-ahead log the database file's mode", async (t) => {
    const dataDir = createDataDir()
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    await stores.checkHealth()
    const logFiles = readdirSync(dataDir).filter((file) => file.startsWith(`${sqliteFileName}-`))
    assert.ok(logFiles.length > 0, 'expected -wal/-shm files while the database is open')
    for (const file of logFiles) assert.equal(readMode(join(dataDir, file)), 0o600, file)
  })

  it('openSqliteStores() puts the database in WAL journal mode', async () => {
    const dataDir = createDataDir()
    await openSqliteStores(dataDir, contractEpoch).close()
    const db = new DatabaseSync(join(dataDir, sqliteFileName))
    try {
      assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal')
    } finally {
      db.close()
    }
  })

  it('a database opened by plain SQLite is in rollback journal mode (the WAL check can fail)', () => {
    const path = join(mkdtempSync(join(root, 'plain-')), 'plain.db')
    const db = new DatabaseSync(path)
    try {
      db.exec('CREATE TABLE t (x INTEGER)')
      assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'delete')
    } finally {
      db.close()
    }
  })

  it('openSqliteStores() records applied migrations in schema_migrations', async () => {
    const dataDir = createDataDir()
    await openSqliteStores(dataDir, contractEpoch).close()
    const db = new DatabaseSync(join(dataDir, sqliteFileName))
    try {
      const rows = db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all()
      assert.deepEqual(
        rows.map((row) => ({ ...row })),
        listShippedMigrations('sqlite').map(({ version, name }) => ({
          version,
          name,
          applied_at: contractEpoch.getTime(),
        })),
      )
    } finally {
      db.close()
    }
  })

  it('reopening the database applies no migration twice and keeps the data', async () => {
    const dataDir = createDataDir()
    const first = openSqliteStores(dataDir, contractEpoch)
    await first.accounts.insertUser({
      id: 'a3f1c1de-0000-4000-8000-000000000001',
      username: 'Alice',
      usernameKey: 'alice',
      usernameSkeleton: null,
      passwordHash: '$argon2id$stand-in',
      roles: ['user'],
      disabledAt: null,
      sessionEpoch: 0,
      isPasswordChangeRequired: false,
      createdAt: contractEpoch,
      updatedAt: contractEpoch,
    })
    await first.close()
    const later = new Date(contractEpoch.getTime() + 60_000)
    const second = openSqliteStores(dataDir, later)
    try {
      assert.equal((await second.accounts.findUserByUsernameKey('alice'))?.username, 'Alice')
    } finally {
      await second.close()
    }
    const db = new DatabaseSync(join(dataDir, sqliteFileName))
    try {
      const rows = db.prepare('SELECT version, applied_at FROM schema_migrations').all()
      assert.deepEqual(
        rows.map((row) => ({ ...row })),
        listShippedMigrations('sqlite').map(({ version }) => ({ version, applied_at: contractEpoch.getTime() })),
      )
    } finally {
      db.close()
    }
  })

  it('migrateSqlite() applies pending migrations once and then nothing', () => {
    const db = new DatabaseSync(':memory:')
    try {
      assert.deepEqual(
        migrateSqlite(db, contractEpoch),
        listShippedMigrations('sqlite').map((migration) => migration.version),
      )
      assert.deepEqual(migrateSqlite(db, contractEpoch), [])
    } finally {
      db.close()
    }
  })

  it('openSqliteStores() refuses a database whose schema is newer than the code', async () => {
    const dataDir = createDataDir()
    await openSqliteStores(dataDir, contractEpoch).close()
    const db = new DatabaseSync(join(dataDir, sqliteFileName))
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(999, 'future', 0)
    db.close()
    assert.throws(() => openSqliteStores(dataDir, contractEpoch), /newer/)
  })
})

describe('master key file', () => {
  it('loadOrCreateMasterKey() creates a 32-byte key in a 0600 file and reuses it', () => {
    const dataDir = createDataDir()
    const path = join(dataDir, 'master.key')
    const created = loadOrCreateMasterKey(path)
    assert.equal(created.length, 32)
    assert.equal(readMode(path), 0o600)
    assert.equal(readMode(dataDir), 0o700)
    assert.deepEqual(loadOrCreateMasterKey(path), created)
    assert.notDeepEqual(loadOrCreateMasterKey(join(createDataDir(), 'master.key')), created)
  })

  it('loadOrCreateMasterKey() refuses a key file readable by group or others', () => {
    const path = join(createDataDir(), 'master.key')
    loadOrCreateMasterKey(path)
    chmodSync(path, 0o640)
    assert.throws(() => loadOrCreateMasterKey(path), /chmod 600/)
  })

  it('loadOrCreateMasterKey() refuses a key file holding fewer than 32 bytes', () => {
    const path = join(createDataDir(), 'master.key')
    loadOrCreateMasterKey(path)
    writeFileSync(path, `${randomBytes(16).toString('base64')}\n`, { mode: 0o600 })
    assert.throws(() => loadOrCreateMasterKey(path), /32-byte/)
  })
})

describe('secrets at rest', () => {
  it('the database file holds token hashes but never the raw session or refresh tokens (SE-02, PW-08)', async () => {
    const dataDir = createDataDir()
    const clock = createManualClock(contractEpoch)
    const stores = openSqliteStores(dataDir, clock.now())
    const core = await createApplication({
      stores,
      clock,
      settings: coreSettings,
      masterKey: loadOrCreateMasterKey(join(dataDir, 'master.key')),
    })
    const password = 'plaintext-marker-Zq7 correct horse'
    const client = { ip: '192.0.2.1', userAgent: 'test', requestId: null }
    await core.signIn.register({ username: 'alice', password }, client)
    await core.signIn.register({ username: 'bob', password }, client)
    const cookie = await core.signIn.signIn({ username: 'alice', password, transport: 'cookie', ...client })
    const token = await core.signIn.signIn({ username: 'bob', password, transport: 'token', ...client })
    const firstRefreshToken = token.tokens?.refreshToken ?? ''
    clock.advanceSeconds(5)
    const refreshed = await core.signIn.refresh(firstRefreshToken, client)
    const secondRefreshToken = refreshed.tokens.refreshToken
    const sessionToken = cookie.sessionToken ?? ''
    assert.ok(sessionToken.length >= 43 && firstRefreshToken.length >= 43 && secondRefreshToken.length >= 43)
    const hashes = [...(await core.accountAdmin.listUsers({ after: null, limit: 10 }))].map((user) => user.passwordHash)
    await stores.close()

    const bytes = Buffer.concat(
      readdirSync(dataDir)
        .filter((file) => file.startsWith(sqliteFileName))
        .map((file) => readFileSync(join(dataDir, file))),
    )
    // The search finds what is stored: the hashes are there, so their absence below means something.
    assert.ok(bytes.includes(hashToken(sessionToken)))
    assert.ok(bytes.includes(hashToken(secondRefreshToken)))
    for (const secret of [sessionToken, firstRefreshToken, secondRefreshToken]) {
      assert.equal(bytes.includes(Buffer.from(secret, 'utf8')), false)
      assert.equal(bytes.includes(Buffer.from(secret, 'base64url')), false)
      assert.equal(bytes.includes(Buffer.from(Buffer.from(secret, 'base64url').toString('hex'))), false)
    }
    assert.equal(bytes.includes(Buffer.from(password, 'utf8')), false)

    assert.equal(hashes.length, 2)
    for (const hash of hashes) assert.match(hash, argon2PHC)
    const salts = hashes.map((hash) => hash.split('$')[4])
    assert.notEqual(salts[0], salts[1])
  })
})

describe('SQLite audit table', () => {
  it('refuses to update an audit event (append-only, AU-05)', async (t) => {
    const dataDir = createDataDir()
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    await stores.audit.appendEvents([buildAuditEventRecord({ id: 'event-1' })])
    const db = new DatabaseSync(join(dataDir, sqliteFileName))
    t.after(() => db.close())
    assert.throws(
      () => db.prepare("UPDATE audit_events SET type = 'login_succeeded' WHERE id = 'event-1'").run(),
      /append-only/,
    )
    assert.equal(db.prepare("SELECT type FROM audit_events WHERE id = 'event-1'").get()?.type, 'login_failed')
  })
})

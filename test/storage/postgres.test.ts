import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import pg from 'pg'
import {
  buildUserRecord,
  contractEpoch,
  insideUnitOfWork,
  secondsAfterEpoch,
} from '../../src/storage/contract/records.ts'
import { testDurableBackendStores } from '../../src/storage/contract/backend-stores.ts'
import { openDatabase } from '../../src/storage/postgres/database.ts'
import { latestPostgresVersion, migratePostgres } from '../../src/storage/postgres/migrate.ts'
import { openPostgresStores } from '../../src/storage/postgres/open.ts'
import { TesseraError } from '../../src/core/errors.ts'
import { testInvalidationBus } from '../../src/storage/contract/invalidation-bus.ts'
import { openPostgresInvalidationBus } from '../../src/storage/postgres/invalidation-bus.ts'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'
import { listShippedMigrations } from '../helpers/migrations.ts'
import { skipUnlessPostgres, testPostgresUrl } from '../helpers/backends.ts'
import {
  createTestPostgresSettings,
  dropTestSchema,
  openTestPostgresStores,
  sharePostgresSchema,
} from '../helpers/postgres.ts'

const skip = await skipUnlessPostgres()

describe('PostgreSQL stores', { skip }, () => {
  const shared = sharePostgresSchema({ now: contractEpoch })
  after(() => shared.dropSchema())
  testDurableBackendStores(shared.openStores, { isInsideUnitOfWork: false })
})

describe('PostgreSQL stores inside one unit of work', { skip }, () => {
  const shared = sharePostgresSchema({ now: contractEpoch })
  after(() => shared.dropSchema())
  testDurableBackendStores(insideUnitOfWork(shared.openStores), { isInsideUnitOfWork: true })
})

describe('PostgreSQL schema and migrations', { skip }, () => {
  it('migratePostgres() creates the schema, applies every migration once and records it', async (t) => {
    const settings = createTestPostgresSettings()
    t.after(() => dropTestSchema(settings.schema))
    const db = openDatabase({ ...settings, timeoutMs: 5000 })
    t.after(() => db.close())
    const shipped = listShippedMigrations('postgres')
    assert.deepEqual(
      await migratePostgres(db, settings.schema, contractEpoch),
      shipped.map((migration) => migration.version),
    )
    assert.deepEqual(await migratePostgres(db, settings.schema, secondsAfterEpoch(60)), [])
    const rows = await db.query('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
    assert.deepEqual(
      rows,
      shipped.map(({ version, name }) => ({ version, name, applied_at: contractEpoch })),
    )
    const [table] = await db.query(
      "SELECT table_schema FROM information_schema.tables WHERE table_name = 'users' AND table_schema = $1",
      [settings.schema],
    )
    assert.equal(table?.table_schema, settings.schema)
  })

  it('nodes migrating at the same moment apply each migration exactly once', async (t) => {
    const settings = createTestPostgresSettings()
    t.after(() => dropTestSchema(settings.schema))
    const databases = [1, 2, 3].map(() => openDatabase({ ...settings, timeoutMs: 5000 }))
    t.after(() => Promise.all(databases.map((db) => db.close())))
    const applied = await Promise.all(databases.map((db) => migratePostgres(db, settings.schema, contractEpoch)))
    assert.deepEqual(
      applied.flat().sort((a, b) => a - b),
      listShippedMigrations('postgres').map((migration) => migration.version),
    )
  })

  it('a node refuses to start on a schema that lacks migrations, and says what to run', async (t) => {
    const settings = createTestPostgresSettings({ migrateOnStart: false })
    t.after(() => dropTestSchema(settings.schema))
    await assert.rejects(openPostgresStores(settings, { timeoutMs: 5000, now: contractEpoch }), /tessera migrate/)
    const migrated = await openPostgresStores(
      { ...settings, migrateOnStart: true },
      { timeoutMs: 5000, now: contractEpoch },
    )
    await migrated.close()
    const started = await openPostgresStores(settings, { timeoutMs: 5000, now: contractEpoch })
    await started.close()
  })

  it('a node refuses a schema newer than its code', async (t) => {
    const stores = await openTestPostgresStores({ now: contractEpoch })
    t.after(() => stores.close())
    await stores.database.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
      latestPostgresVersion() + 1,
      'future',
      contractEpoch,
    ])
    const schema = String((await stores.database.query('SELECT current_schema() AS name'))[0]?.name)
    await assert.rejects(
      openPostgresStores(createTestPostgresSettings({ schema, migrateOnStart: false }), {
        timeoutMs: 5000,
        now: contractEpoch,
      }),
      /newer/,
    )
  })

  it('usernames are ordered bytewise whatever the database locale', async (t) => {
    const { accounts, close } = await openTestPostgresStores({ now: contractEpoch })
    t.after(close)
    for (const key of ['b', 'a_b', 'ab', 'A', 'a-b']) await accounts.insertUser(buildUserRecord({ usernameKey: key }))
    const listed = await accounts.listUsers({ afterUsernameKey: null, limit: 10 })
    assert.deepEqual(
      listed.map((user) => user.usernameKey),
      ['A', 'a-b', 'a_b', 'ab', 'b'],
    )
  })
})

describe('PostgreSQL outage', { skip }, () => {
  it('a database that refuses connections fails fast with service_unavailable', async (t) => {
    const settings = createTestPostgresSettings({ url: 'postgres://postgres@127.0.0.1:1/test' })
    const db = openDatabase({ ...settings, timeoutMs: 1000 })
    t.after(() => db.close())
    const startedAt = Date.now()
    await assert.rejects(
      db.query('SELECT 1'),
      (error) => error instanceof TesseraError && error.code === 'service_unavailable',
    )
    assert.ok(Date.now() - startedAt < 1500)
  })

  it('a statement past the backend timeout fails with service_unavailable, not a hang', async (t) => {
    const settings = createTestPostgresSettings()
    const db = openDatabase({ ...settings, timeoutMs: 300 })
    t.after(() => db.close())
    const startedAt = Date.now()
    await assert.rejects(
      db.query('SELECT pg_sleep(5)'),
      (error) => error instanceof TesseraError && error.code === 'service_unavailable',
    )
    assert.ok(Date.now() - startedAt < 2000)
  })

  it('a server error that is not about availability stays as it is (a bug is not "retry later")', async (t) => {
    const db = openDatabase({ ...createTestPostgresSettings(), timeoutMs: 2000 })
    t.after(() => db.close())
    await assert.rejects(
      db.query('SELECT * FROM no_such_table'),
      (error) => error instanceof pg.DatabaseError && error.code === '42P01',
    )
  })

  it('a connection killed by the server is replaced on the next query', async (t) => {
    const stores = await openTestPostgresStores({ now: contractEpoch, settings: { poolSize: 1 } })
    t.after(() => stores.close())
    const [before] = await stores.database.query('SELECT pg_backend_pid() AS pid')
    const admin = new pg.Client({ connectionString: testPostgresUrl })
    await admin.connect()
    await admin.query('SELECT pg_terminate_backend($1)', [before?.pid])
    await admin.end()
    // The first query may land on the dead connection and fail as unavailable; the next one works.
    await stores.database.query('SELECT 1').catch((error: unknown) => {
      assert.ok(error instanceof TesseraError && error.code === 'service_unavailable')
    })
    const [after] = await stores.database.query('SELECT pg_backend_pid() AS pid')
    assert.notEqual(after?.pid, before?.pid)
  })
})

describe('PostgreSQL invalidation bus', { skip }, () => {
  testInvalidationBus(async () => {
    const settings = createTestPostgresSettings()
    const db = openDatabase({ ...settings, timeoutMs: 2000 })
    return {
      open: () =>
        openPostgresInvalidationBus({ database: db, url: settings.url, schema: settings.schema, timeoutMs: 2000 }),
      close: () => db.close(),
    }
  })

  it('buses of different schemas do not hear each other', async (t) => {
    const [one, two] = [createTestPostgresSettings(), createTestPostgresSettings()]
    const db = openDatabase({ ...one, timeoutMs: 2000 })
    t.after(() => db.close())
    const first = await openPostgresInvalidationBus({ database: db, url: one.url, schema: one.schema, timeoutMs: 2000 })
    const second = await openPostgresInvalidationBus({
      database: db,
      url: two.url,
      schema: two.schema,
      timeoutMs: 2000,
    })
    t.after(async () => {
      await first.close()
      await second.close()
    })
    const heard: unknown[] = []
    second.subscribe({ onInvalidation: (message) => void heard.push(message), onReset: () => {} })
    await first.publish({ kind: 'signing-keys' })
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(heard, [])
  })

  it('reports itself disconnected while the database hangs, and reconnects when it is back', async (t) => {
    const target = new URL(testPostgresUrl)
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    t.after(() => proxy.close())
    const proxied = new URL(testPostgresUrl)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(proxy.port)
    const settings = createTestPostgresSettings({ url: proxied.toString() })
    const db = openDatabase({ ...settings, timeoutMs: 300 })
    t.after(() => db.close())
    const bus = await openPostgresInvalidationBus({
      database: db,
      url: settings.url,
      schema: settings.schema,
      timeoutMs: 300,
      silenceLimitMs: 800,
      onError: () => {},
    })
    t.after(() => bus.close())
    let resets = 0
    bus.subscribe({ onInvalidation: () => {}, onReset: () => void (resets += 1) })
    assert.equal(bus.isConnected(), true)
    proxy.stall()
    await waitUntil(() => !bus.isConnected(), 3000)
    await proxy.restore()
    await waitUntil(() => bus.isConnected(), 5000)
    assert.ok(resets >= 2)
  })
})

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

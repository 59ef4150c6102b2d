/**
 * PostgreSQL for tests: every opening gets its own schema in the shared test database, dropped
 * when it is closed, so test files and test cases running in parallel never see each other.
 */
import pg from 'pg'
import type { PostgresSettings } from '../../src/config/backends.ts'
import { openPostgresStores, type PostgresStores } from '../../src/storage/postgres/open.ts'
import { testPostgresUrl, uniqueTestName } from './backends.ts'

export function createTestPostgresSettings(overrides: Partial<PostgresSettings> = {}): PostgresSettings {
  return { url: testPostgresUrl, schema: uniqueTestName('tessera_test'), poolSize: 4, migrateOnStart: true, ...overrides }
}

/** Drops a test schema and everything in it. */
export async function dropTestSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresUrl })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

/** Stores in a fresh schema; closing them drops the schema. */
export async function openTestPostgresStores(
  options: { now: Date; timeoutMs?: number; settings?: Partial<PostgresSettings> },
): Promise<PostgresStores> {
  const settings = createTestPostgresSettings(options.settings)
  const stores = await openPostgresStores(settings, { timeoutMs: options.timeoutMs ?? 5000, now: options.now })
  return {
    ...stores,
    async close() {
      await stores.close()
      await dropTestSchema(settings.schema)
    },
  }
}

/**
 * One schema and one pool for a whole contract file: migrated at the first opening, emptied
 * (every table but the migration record) at each later one, closed and dropped when the file
 * ends. Creating and migrating a schema per test case took most of the time of the PostgreSQL
 * contract suites.
 */
export function sharePostgresSchema(options: { now: Date }): { openStores: () => Promise<PostgresStores>; dropSchema(): Promise<void> } {
  const settings = createTestPostgresSettings()
  let shared: Promise<{ stores: PostgresStores; tables: string }> | null = null
  async function open() {
    const stores = await openPostgresStores(settings, { timeoutMs: 5000, now: options.now })
    const rows = await stores.database.query(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`,
      [settings.schema],
    )
    return { stores, tables: rows.map((row) => `"${String(row.table_name)}"`).join(', ') }
  }
  return {
    async openStores() {
      shared ??= open()
      const { stores, tables } = await shared
      await stores.database.query(`TRUNCATE ${tables}`)
      // The pool outlives each test; the file closes it.
      return { ...stores, async close() {} }
    },
    async dropSchema() {
      if (shared) await (await shared).stores.close()
      await dropTestSchema(settings.schema)
    },
  }
}

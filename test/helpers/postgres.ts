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

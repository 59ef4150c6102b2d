/**
 * Bringing the configured durable store to this version's schema, for `tessera migrate`. The
 * embedded SQLite database migrates itself when opened; PostgreSQL is migrated here (or on start
 * with TESSERA_DATABASE_MIGRATE_ON_START).
 */
import type { Config } from '../../config/load.ts'

export type SchemaMigrationReport =
  { backend: 'sqlite'; dataDir: string } | { backend: 'postgres'; schema: string; applied: number[]; version: number }

export async function migrateConfiguredSchema(config: Config, now: Date): Promise<SchemaMigrationReport> {
  const { postgres } = config.storage
  if (postgres === null) {
    const { openSqliteStores } = await import('../sqlite/open.ts')
    await openSqliteStores(config.storage.dataDir, now).close()
    return { backend: 'sqlite', dataDir: config.storage.dataDir }
  }
  const { openDatabase } = await import('../postgres/database.ts')
  const { latestPostgresVersion, migratePostgres, migrationStatementTimeoutMs } = await import('../postgres/migrate.ts')
  const database = openDatabase({
    ...postgres,
    poolSize: 1,
    timeoutMs: config.storage.backendTimeoutSeconds * 1000,
    statementTimeoutMs: migrationStatementTimeoutMs,
  })
  try {
    const applied = await migratePostgres(database, postgres.schema, now)
    return { backend: 'postgres', schema: postgres.schema, applied, version: latestPostgresVersion() }
  } finally {
    await database.close()
  }
}

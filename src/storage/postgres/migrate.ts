/**
 * Versioned PostgreSQL migrations: `migrations/NNN_name.sql`, applied in order and recorded in
 * `schema_migrations`, all in one transaction under an advisory lock, so that nodes starting
 * together (or `tessera migrate` run twice) apply each migration exactly once. A database newer
 * than this code is refused, and so is one that is behind (unless migrations run at start).
 */
import { readMigrationFiles, type Migration } from '../migration-files.ts'
import type { Database, Queryable } from './database.ts'
import { readSqlState } from './database.ts'

const migrationsDir = new URL('./migrations/', import.meta.url)

/**
 * A migration may rewrite a large table: far longer than a request may wait. Migrations run on
 * a connection of their own with this budget, at start as from `tessera migrate`.
 */
export const migrationStatementTimeoutMs = 30 * 60 * 1000

function readMigrations(): Migration[] {
  return readMigrationFiles(migrationsDir)
}

/** The newest schema version this code knows. */
export function latestPostgresVersion(): number {
  return readMigrations().at(-1)?.version ?? 0
}

async function readAppliedVersions(db: Queryable): Promise<Set<number>> {
  try {
    const rows = await db.query('SELECT version FROM schema_migrations')
    return new Set(rows.map((row) => Number(row.version)))
  } catch (error) {
    // undefined_table: nothing was ever applied to this schema.
    if (readSqlState(error) === '42P01') return new Set()
    throw error
  }
}

function assertNotNewer(applied: Set<number>, latestKnown: number): void {
  const newest = Math.max(0, ...applied)
  if (newest > latestKnown) {
    throw new Error(`database schema version ${newest} is newer than this Tessera (${latestKnown})`)
  }
}

/** Applies pending migrations to `schema`; returns the versions applied now. */
export async function migratePostgres(db: Database, schema: string, now: Date): Promise<number[]> {
  const migrations = readMigrations()
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tessera migrations ${schema}`])
    // The schema name is a validated identifier; quoting keeps it exact.
    await tx.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL
    )`)
    const applied = await readAppliedVersions(tx)
    assertNotNewer(applied, migrations.at(-1)?.version ?? 0)
    const appliedNow: number[] = []
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue
      await tx.query(migration.sql)
      await tx.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        now,
      ])
      appliedNow.push(migration.version)
    }
    return appliedNow
  })
}

/** Throws, saying what to do, unless the schema is exactly at this code's version. */
export async function assertPostgresSchemaCurrent(db: Database): Promise<void> {
  const applied = await readAppliedVersions(db)
  const latestKnown = latestPostgresVersion()
  assertNotNewer(applied, latestKnown)
  const pending = readMigrations().filter((migration) => !applied.has(migration.version))
  if (pending.length > 0) {
    throw new Error(
      `the PostgreSQL schema lacks ${pending.length} migration(s) (up to version ${latestKnown}): ` +
        'run "tessera migrate", or start with TESSERA_DATABASE_MIGRATE_ON_START=true',
    )
  }
}

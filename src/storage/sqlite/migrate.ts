/**
 * Versioned migrations: `migrations/NNN_name.sql`, applied in order, each in its own
 * transaction, recorded in `schema_migrations`. A database newer than this code is refused.
 */
import type { DatabaseSync } from 'node:sqlite'
import { readMigrationFiles, type Migration } from '../migration-files.ts'

const migrationsDir = new URL('./migrations/', import.meta.url)

function readMigrations(): Migration[] {
  return readMigrationFiles(migrationsDir)
}

/** Applies pending migrations; returns the versions applied now. */
export function migrateSqlite(db: DatabaseSync, now: Date): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`)
  const migrations = readMigrations()
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .all()
      .map((row) => Number(row.version)),
  )
  const latestKnown = migrations.at(-1)?.version ?? 0
  const newest = Math.max(0, ...applied)
  if (newest > latestKnown) {
    throw new Error(`database schema version ${newest} is newer than this Tessera (${latestKnown})`)
  }
  const appliedNow: number[] = []
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue
    db.exec('BEGIN IMMEDIATE')
    try {
      db.exec(migration.sql)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        now.getTime(),
      )
      db.exec('COMMIT')
    } catch (error) {
      db.exec('ROLLBACK')
      throw error
    }
    appliedNow.push(migration.version)
  }
  return appliedNow
}

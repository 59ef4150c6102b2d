/** The migration files each backend ships, as the migration tests expect to see them applied. */
import { readMigrationFiles, type Migration } from '../../src/storage/migration-files.ts'

export function listShippedMigrations(backend: 'sqlite' | 'postgres'): Migration[] {
  const migrations = readMigrationFiles(new URL(`../../src/storage/${backend}/migrations/`, import.meta.url))
  if (migrations.length === 0) throw new Error(`no ${backend} migrations found`)
  return migrations
}

/**
 * Copying the embedded SQLite database into the configured PostgreSQL (and Redis), for
 * `tessera migrate-data`. See copy-stores.ts for what is copied and how a rerun behaves.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../../config/load.ts'
import type { Backends } from '../open.ts'
import type { CopyReport } from '../copy-stores.ts'

export type DataCopyOutcome =
  { outcome: 'no_source'; fileName: string } | { outcome: 'copied'; report: CopyReport; layout: Backends['layout'] }

/** True when `dataDir` holds an embedded database to copy. */
export async function hasEmbeddedDatabase(dataDir: string): Promise<boolean> {
  const { sqliteFileName } = await import('../sqlite/open.ts')
  return existsSync(join(dataDir, sqliteFileName))
}

export async function copyEmbeddedDatabase(
  config: Config,
  options: { sourceDir: string; includeSessions: boolean; now: Date },
): Promise<DataCopyOutcome> {
  const { sqliteFileName, openSqliteStores } = await import('../sqlite/open.ts')
  if (!existsSync(join(options.sourceDir, sqliteFileName))) return { outcome: 'no_source', fileName: sqliteFileName }
  const { openBackends } = await import('../open.ts')
  const { copyStores } = await import('../copy-stores.ts')
  const source = openSqliteStores(options.sourceDir, options.now)
  try {
    const target = await openBackends(config.storage, { now: options.now })
    try {
      const report = await copyStores(source, target.stores, {
        now: options.now,
        includeSessions: options.includeSessions,
      })
      return { outcome: 'copied', report, layout: target.layout }
    } finally {
      await target.close()
    }
  } finally {
    await source.close()
  }
}

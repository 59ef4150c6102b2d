/**
 * Opens the embedded stores and the core for commands that work on the data directly, without
 * a running server. SQLite's WAL mode and busy timeout let this run beside a live server.
 */
import { join } from 'node:path'
import type { Config } from '../config/load.ts'
import { systemClock } from '../core/clock.ts'
import { createCore, type Core } from '../core/core.ts'
import { loadOrCreateMasterKey } from '../storage/master-key.ts'
import { openSqliteStores } from '../storage/sqlite/open.ts'

/** Runs `work` with a core over the configured data directory, closing the stores afterwards. */
export async function withCore<T>(config: Config, work: (core: Core) => Promise<T>): Promise<T> {
  const masterKey = loadOrCreateMasterKey(join(config.storage.dataDir, 'master.key'))
  const stores = openSqliteStores(config.storage.dataDir, systemClock.now())
  try {
    const core = await createCore({
      stores,
      clock: systemClock,
      settings: { tokens: config.tokens, sessions: config.sessions, passwords: config.passwords },
      masterKey,
    })
    return await work(core)
  } finally {
    await stores.close()
  }
}

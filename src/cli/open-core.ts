/**
 * Opens the embedded stores and the core for commands that work on the data directly, without
 * a running server. SQLite's WAL mode and busy timeout let this run beside a live server.
 */
import type { Config } from '../config/load.ts'
import type { Core } from '../core/core.ts'
import { openRuntime } from '../runtime.ts'

/** Runs `work` with a core over the configured data directory, closing the stores afterwards. */
export async function withCore<T>(config: Config, work: (core: Core) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(config)
  try {
    return await work(runtime.core)
  } finally {
    await runtime.close()
  }
}

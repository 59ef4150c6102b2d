/**
 * Opens the configured stores and the application for commands that work on the data directly,
 * without a running server. SQLite's WAL mode and busy timeout let this run beside a live server.
 */
import type { Config } from '../config/load.ts'
import type { Application } from '../core/application/application.ts'
import { openRuntime } from '../runtime.ts'

/** Runs `work` with the application over the configured stores, closing them afterwards. */
export async function withApplication<T>(config: Config, work: (application: Application) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(config)
  try {
    return await work(runtime.application)
  } finally {
    await runtime.close()
  }
}

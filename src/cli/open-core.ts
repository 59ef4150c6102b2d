/**
 * Opens the configured stores and the application for commands that work on the data directly,
 * without a running server. SQLite's WAL mode and busy timeout let this run beside a live server.
 * Every such command says on stderr which data it works on: run from the wrong directory, it
 * would otherwise look at (or create) a data directory that is not the server's.
 */
import type { Config } from '../config/load.ts'
import { maskUrlPassword } from '../config/backends.ts'
import type { Application } from '../core/application/application.ts'
import { openRuntime } from '../runtime.ts'
import type { Io } from './io.ts'

export interface DataUse {
  io: Io
  /**
   * 'write': the command changes data and, on a new installation, creates the data directory
   * and its master key (`user create` before the first start). 'read': it never creates
   * anything; a missing data directory, database or key is an error naming the path.
   */
  access: 'read' | 'write'
}

/** One line naming the data a command works on (no password). */
export function describeDataLocation(config: Config): string {
  const { dataDir, postgres } = config.storage
  if (postgres === null) return `Data directory: ${dataDir}`
  return `Data: PostgreSQL ${maskUrlPassword(postgres.url)} (schema ${postgres.schema}), master key in ${dataDir}`
}

/** Runs `work` with the application over the configured data, closing the stores afterwards. */
export async function withApplication<T>(
  config: Config,
  use: DataUse,
  work: (application: Application) => Promise<T>,
): Promise<T> {
  use.io.stderr(`${describeDataLocation(config)}\n`)
  const runtime = await openRuntime(config, undefined, undefined, { mayCreateData: use.access === 'write' })
  try {
    return await work(runtime.application)
  } finally {
    await runtime.close()
  }
}

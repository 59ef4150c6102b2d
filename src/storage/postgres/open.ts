/**
 * The PostgreSQL stores: durable data shared by every node. The schema must be at this code's
 * version: migrated here when `migrateOnStart` is set, otherwise by `tessera migrate`.
 */
import { maskUrlPassword, type PostgresSettings } from '../../config/backends.ts'
import { TesseraError } from '../../core/errors.ts'
import type { Stores } from '../../core/stores.ts'
import { createPostgresAccountStore } from './accounts.ts'
import { createPostgresAlertStore } from './alerts.ts'
import { createPostgresAuditStore } from './audit.ts'
import { openDatabase, type Database } from './database.ts'
import { assertPostgresSchemaCurrent, migratePostgres } from './migrate.ts'
import { createPostgresRefreshTokenStore } from './refresh-tokens.ts'
import { createPostgresSchedulerLockStore } from './scheduler-leases.ts'
import { createPostgresServiceClientStore } from './service-clients.ts'
import { createPostgresSessionStore } from './sessions.ts'
import { createPostgresSigningKeyStore } from './signing-keys.ts'
import { createPostgresThrottleStore } from './throttles.ts'

export interface PostgresStores extends Stores {
  database: Database
}

export async function openPostgresStores(
  settings: PostgresSettings,
  options: { timeoutMs: number; now: Date; onBackgroundError?(error: unknown): void },
): Promise<PostgresStores> {
  const database = openDatabase({
    url: settings.url,
    schema: settings.schema,
    poolSize: settings.poolSize,
    timeoutMs: options.timeoutMs,
    ...(options.onBackgroundError ? { onBackgroundError: options.onBackgroundError } : {}),
  })
  try {
    if (settings.migrateOnStart) await migratePostgres(database, settings.schema, options.now)
    else await assertPostgresSchemaCurrent(database)
  } catch (error) {
    await database.close()
    // At start an operator reads this: say which server, and what the driver said.
    if (error instanceof TesseraError && error.code === 'service_unavailable') {
      const reason = error.cause instanceof Error ? error.cause.message : 'no answer'
      throw new Error(`TESSERA_DATABASE_URL: PostgreSQL at ${maskUrlPassword(settings.url)} is not reachable: ${reason}`, { cause: error })
    }
    throw error
  }
  return {
    database,
    accounts: createPostgresAccountStore(database),
    sessions: createPostgresSessionStore(database),
    signingKeys: createPostgresSigningKeyStore(database),
    refreshTokens: createPostgresRefreshTokenStore(database),
    serviceClients: createPostgresServiceClientStore(database),
    throttles: createPostgresThrottleStore(database),
    audit: createPostgresAuditStore(database),
    alerts: createPostgresAlertStore(database),
    schedulerLocks: createPostgresSchedulerLockStore(database),
    async checkHealth() {
      await database.query('SELECT 1')
    },
    close: () => database.close(),
  }
}

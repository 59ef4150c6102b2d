/**
 * The PostgreSQL stores: durable data shared by every node. The schema must be at this code's
 * version: migrated here when `migrateOnStart` is set, otherwise by `tessera migrate`.
 */
import { maskUrlPassword, type PostgresSettings } from '../../config/backends.ts'
import { TesseraError } from '../../core/errors.ts'
import type { BackendStores, StoreSet } from '../../core/stores.ts'
import { createPostgresAccountStore } from './accounts.ts'
import { createPostgresAlertStore } from './alerts.ts'
import { createPostgresAuditStore } from './audit.ts'
import { openDatabase, type Database, type SqlSession } from './database.ts'
import { createPostgresRevokedSessionStore } from './revoked-sessions.ts'
import { assertPostgresSchemaCurrent, migratePostgres, migrationStatementTimeoutMs } from './migrate.ts'
import { createPostgresRefreshTokenStore } from './refresh-tokens.ts'
import { createPostgresDocumentStore, playerDataTable, sessionDataTable } from './documents.ts'
import { createPostgresTicketStore } from './tickets.ts'
import { createPostgresDeviceStore } from './devices.ts'
import { createPostgresSchedulerLockStore } from './scheduler-leases.ts'
import { createPostgresServiceClientStore } from './service-clients.ts'
import { createPostgresSessionStore } from './sessions.ts'
import { createPostgresSigningKeyStore } from './signing-keys.ts'
import { createPostgresThrottleStore } from './throttles.ts'
import { createPostgresSecondFactorStore } from './second-factors.ts'
import { createPostgresPasskeyStore } from './passkeys.ts'
import { createPostgresEmailStore } from './emails.ts'

export interface PostgresStores extends BackendStores {
  database: Database
}

/** Every store over one SQL session: the pool, or the connection of a unit of work. */
function createStoresOver(db: SqlSession): StoreSet {
  return {
    accounts: createPostgresAccountStore(db),
    revokedSessions: createPostgresRevokedSessionStore(db),
    sessions: createPostgresSessionStore(db),
    signingKeys: createPostgresSigningKeyStore(db),
    refreshTokens: createPostgresRefreshTokenStore(db),
    serviceClients: createPostgresServiceClientStore(db),
    throttles: createPostgresThrottleStore(db),
    audit: createPostgresAuditStore(db),
    alerts: createPostgresAlertStore(db),
    schedulerLocks: createPostgresSchedulerLockStore(db),
    secondFactors: createPostgresSecondFactorStore(db),
    passkeys: createPostgresPasskeyStore(db),
    emails: createPostgresEmailStore(db),
    playerData: createPostgresDocumentStore(db, playerDataTable),
    sessionData: createPostgresDocumentStore(db, sessionDataTable),
    tickets: createPostgresTicketStore(db),
    devices: createPostgresDeviceStore(db),
  }
}

/** Each call on the pool is bounded by the backend timeout; a migration gets its own budget. */
async function migrateOnOwnConnection(
  settings: PostgresSettings,
  options: { timeoutMs: number; now: Date },
): Promise<void> {
  const database = openDatabase({
    url: settings.url,
    schema: settings.schema,
    poolSize: 1,
    timeoutMs: options.timeoutMs,
    statementTimeoutMs: migrationStatementTimeoutMs,
  })
  try {
    await migratePostgres(database, settings.schema, options.now)
  } finally {
    await database.close()
  }
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
    if (settings.migrateOnStart) await migrateOnOwnConnection(settings, options)
    else await assertPostgresSchemaCurrent(database)
  } catch (error) {
    await database.close()
    // At start an operator reads this: say which server, and what the driver said.
    if (error instanceof TesseraError && error.code === 'service_unavailable') {
      const reason = error.cause instanceof Error ? error.cause.message : 'no answer'
      throw new Error(
        `TESSERA_DATABASE_URL: PostgreSQL at ${maskUrlPassword(settings.url)} is not reachable: ${reason}`,
        { cause: error },
      )
    }
    throw error
  }
  return {
    database,
    ...createStoresOver(database),
    runUnitOfWork: (work) => database.transaction((tx) => work(createStoresOver(tx))),
    async checkHealth() {
      await database.query('SELECT 1')
    },
    close: () => database.close(),
  }
}

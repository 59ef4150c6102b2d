/**
 * Picks a backend for each store from the configuration:
 *
 *   durable data (accounts, signing keys,   PostgreSQL when configured, else SQLite
 *   service clients, audit, alerts,
 *   player data)
 *   sessions and their refresh tokens,      Redis when configured, else the durable backend
 *   session data, one-time tickets,
 *   throttle counters, scheduler leases
 *   invalidation bus                        Redis when configured, else PostgreSQL LISTEN/NOTIFY,
 *                                           else in-process (one node)
 *
 * Every store of `Stores` exists on both durable backends, so the data nodes must agree on
 * (throttles, leases, the audit trail) is shared as soon as PostgreSQL is configured; with Redis,
 * the throttles and leases move there, beside the other hot state whose expiry Redis's TTLs do.
 * Refresh tokens always sit beside the sessions: a rotation changes both in one atomic step.
 * A store added later is one file per backend and one line below.
 */
import type { Config } from '../config/load.ts'
import { createLocalInvalidationBus, type InvalidationBus } from '../core/invalidation/bus.ts'
import type { Stores } from '../core/stores.ts'
import type { PostgresInvalidationBus } from './postgres/invalidation-bus.ts'
import type { PostgresStores } from './postgres/open.ts'
import type { RedisStores } from './redis/open.ts'
import { openSqliteStores } from './sqlite/open.ts'

export interface Backends {
  stores: Stores
  invalidationBus: InvalidationBus
  /** Which backend holds what, for the start-up log (no secrets). */
  layout: { durable: 'sqlite' | 'postgres'; sessions: 'sqlite' | 'postgres' | 'redis' | 'redis-cluster' }
  close(): Promise<void>
}

export interface OpenBackendsOptions {
  now: Date
  /**
   * Derived from the master key: the same on every node of a deployment. When given, a Redis
   * key prefix already claimed by another deployment refuses the start.
   */
  deploymentId?: string
  /** Connection errors outside any request; the clients reconnect by themselves. */
  onBackgroundError?(error: unknown): void
}

export async function openBackends(storage: Config['storage'], options: OpenBackendsOptions): Promise<Backends> {
  const timeoutMs = storage.backendTimeoutSeconds * 1000
  const background = options.onBackgroundError ? { onBackgroundError: options.onBackgroundError } : {}
  // Drivers load only when configured: the embedded default starts without them.
  const postgres: PostgresStores | null = storage.postgres
    ? await (
        await import('./postgres/open.ts')
      ).openPostgresStores(storage.postgres, { timeoutMs, now: options.now, ...background })
    : null
  const durable =
    postgres ?? openSqliteStores(storage.dataDir, options.now, { timeoutMs, checkpointsInBackground: true })
  let redis: RedisStores | null = null
  let postgresBus: PostgresInvalidationBus | null = null
  try {
    if (storage.redis) {
      redis = await (await import('./redis/open.ts')).openRedisStores(storage.redis, { timeoutMs, ...background })
      if (options.deploymentId !== undefined) {
        const { claimRedisPrefix } = await import('./redis/deployment.ts')
        await claimRedisPrefix(redis.connection, storage.redis.keyPrefix, options.deploymentId)
      }
    } else if (postgres && storage.postgres) {
      postgresBus = await (
        await import('./postgres/invalidation-bus.ts')
      ).openPostgresInvalidationBus({
        database: postgres.database,
        url: storage.postgres.url,
        schema: storage.postgres.schema,
        timeoutMs,
        ...(options.onBackgroundError ? { onError: options.onBackgroundError } : {}),
      })
    }
  } catch (error) {
    await redis?.close()
    await durable.close()
    throw error
  }
  const hot = redis

  async function close(): Promise<void> {
    await postgresBus?.close()
    await Promise.allSettled([hot?.close(), durable.close()])
  }

  const stores: Stores = {
    accounts: durable.accounts,
    revokedSessions: durable.revokedSessions,
    signingKeys: durable.signingKeys,
    serviceClients: durable.serviceClients,
    throttles: hot?.throttles ?? durable.throttles,
    audit: durable.audit,
    alerts: durable.alerts,
    secondFactors: durable.secondFactors,
    passkeys: durable.passkeys,
    emails: durable.emails,
    playerData: durable.playerData,
    devices: durable.devices,
    schedulerLocks: hot?.schedulerLocks ?? durable.schedulerLocks,
    sessions: hot?.sessions ?? durable.sessions,
    refreshTokens: hot?.refreshTokens ?? durable.refreshTokens,
    sessionData: hot?.sessionData ?? durable.sessionData,
    tickets: hot?.tickets ?? durable.tickets,
    runUnitOfWork: (work) => durable.runUnitOfWork(work),
    async checkHealth() {
      await Promise.all([durable.checkHealth(), hot?.checkHealth()])
    },
    close,
  }
  return {
    stores,
    invalidationBus: hot?.invalidationBus ?? postgresBus ?? createLocalInvalidationBus(),
    layout: {
      durable: storage.postgres ? 'postgres' : 'sqlite',
      sessions: hot ? (hot.connection.isCluster ? 'redis-cluster' : 'redis') : storage.postgres ? 'postgres' : 'sqlite',
    },
    close,
  }
}

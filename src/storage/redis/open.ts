/**
 * The Redis stores: hot, TTL-bound data (sessions and their refresh-token families, throttle
 * counters), the scheduler leases and the invalidation bus, on one Redis or one Redis Cluster.
 */
import type { RedisSettings } from '../../config/backends.ts'
import type { SchedulerLockStore } from '../../core/scheduler/store.ts'
import type { SessionStore } from '../../core/sessions/store.ts'
import type { ThrottleStore } from '../../core/throttle/store.ts'
import type { RefreshTokenStore } from '../../core/tokens/store.ts'
import type { DocumentStore } from '../../core/documents/store.ts'
import type { TicketStore } from '../../core/tickets/store.ts'
import { createRedisSessionDataStore } from './session-data.ts'
import { createRedisTicketStore } from './tickets.ts'
import { openRedisConnection, type RedisConnection } from './connection.ts'
import { openRedisInvalidationBus, type RedisInvalidationBus } from './invalidation-bus.ts'
import { createRedisRefreshTokenStore } from './refresh-tokens.ts'
import { createRedisSchedulerLockStore } from './scheduler-leases.ts'
import { createRedisSessionStore } from './sessions.ts'
import { createRedisThrottleStore } from './throttles.ts'

export interface RedisStores {
  connection: RedisConnection
  sessions: SessionStore
  /** Kept beside the sessions: a rotation changes a session and its family in one step. */
  refreshTokens: RefreshTokenStore
  /** Beside the sessions, in each session's own slot. */
  sessionData: DocumentStore
  tickets: TicketStore
  throttles: ThrottleStore
  schedulerLocks: SchedulerLockStore
  invalidationBus: RedisInvalidationBus
  checkHealth(): Promise<void>
  close(): Promise<void>
}

export async function openRedisStores(
  settings: RedisSettings,
  options: { timeoutMs: number; onBackgroundError?(error: unknown): void },
): Promise<RedisStores> {
  const connection = await openRedisConnection({ settings, ...options })
  let invalidationBus: RedisInvalidationBus
  try {
    invalidationBus = await openRedisInvalidationBus({
      redis: connection,
      keyPrefix: settings.keyPrefix,
      ...(options.onBackgroundError ? { onError: options.onBackgroundError } : {}),
    })
  } catch (error) {
    await connection.close()
    throw error
  }
  return {
    connection,
    sessions: createRedisSessionStore(connection, settings.keyPrefix),
    refreshTokens: createRedisRefreshTokenStore(connection, settings.keyPrefix),
    sessionData: createRedisSessionDataStore(connection, settings.keyPrefix),
    tickets: createRedisTicketStore(connection, settings.keyPrefix),
    throttles: createRedisThrottleStore(connection, settings.keyPrefix),
    schedulerLocks: createRedisSchedulerLockStore(connection, settings.keyPrefix),
    invalidationBus,
    checkHealth: () => connection.ping(),
    async close() {
      await invalidationBus.close()
      await connection.close()
    },
  }
}

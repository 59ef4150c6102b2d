/**
 * The invalidation bus over PostgreSQL LISTEN/NOTIFY, for deployments with PostgreSQL and no
 * Redis. One dedicated connection listens (a pooled one cannot: LISTEN belongs to a session);
 * messages are sent with pg_notify through the pool. Like the Redis bus, it sends itself a
 * heartbeat and counts as disconnected when the heartbeat stops arriving, and it reconnects by
 * itself. The channel is named after the schema, so deployments sharing a database stay apart.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { parseInvalidation, type InvalidationBus } from '../../core/invalidation/bus.ts'
import { finishesWithin } from '../backend-deadline.ts'
import { createBusListeners } from '../invalidation-listeners.ts'
import type { Database } from './database.ts'

export interface PostgresInvalidationBus extends InvalidationBus {
  close(): Promise<void>
}

export interface PostgresInvalidationBusOptions {
  database: Database
  url: string
  schema: string
  timeoutMs: number
  heartbeatIntervalMs?: number
  silenceLimitMs?: number
  onError?(error: unknown): void
}

export async function openPostgresInvalidationBus(
  options: PostgresInvalidationBusOptions,
): Promise<PostgresInvalidationBus> {
  const { database, onError } = options
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 250
  const silenceLimitMs = options.silenceLimitMs ?? 1500
  const busId = randomUUID()
  const channel = `tessera_invalidation_${options.schema}`.slice(0, 63)
  const bus = createBusListeners({ silenceLimitMs, onError })
  let listener: pg.Client | null = null
  let isClosed = false
  let isConnecting = false

  function receive(payload: string): void {
    let parsed: { origin?: unknown; heartbeat?: unknown }
    try {
      parsed = JSON.parse(payload) as { origin?: unknown; heartbeat?: unknown }
    } catch {
      return
    }
    if (parsed.origin === busId) {
      if (parsed.heartbeat === true) bus.heard()
      return
    }
    const message = parseInvalidation(payload)
    if (message !== null) bus.deliver(message)
  }

  function dropListener(client: pg.Client): void {
    if (listener !== client) return
    listener = null
    bus.lost()
    client.end().catch(() => {
      // Already broken; nothing to close.
    })
  }

  async function connectListener(): Promise<void> {
    if (isClosed || isConnecting || listener !== null) return
    isConnecting = true
    // LISTEN is bounded too: a connection that hangs while it subscribes must not stall reconnection.
    const client = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: options.timeoutMs,
      query_timeout: options.timeoutMs,
      keepAlive: true,
    })
    try {
      client.on('error', (error) => {
        onError?.(error)
        dropListener(client)
      })
      client.on('end', () => dropListener(client))
      client.on('notification', (notification) => {
        if (notification.channel === channel && notification.payload !== undefined) receive(notification.payload)
      })
      await client.connect()
      // The channel is built from a validated schema name; quoting keeps it one identifier.
      await client.query(`LISTEN "${channel}"`)
      if (isClosed) {
        await client.end()
        return
      }
      listener = client
      // Listening works: count as heard now (the reset that follows drops every copy).
      bus.heard()
    } catch (error) {
      onError?.(error)
      // Not awaited: a server that hangs would hold every later attempt behind this one.
      client.end().catch(() => {})
    } finally {
      isConnecting = false
    }
  }

  async function beat(): Promise<void> {
    if (listener === null) return
    try {
      await database.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ origin: busId, heartbeat: true })])
    } catch {
      // A failed heartbeat is itself the signal: silence turns the bus disconnected.
    }
  }

  const timer = setInterval(() => {
    // A connection silent far past the limit is dead without having said so (a dropped route):
    // replace it rather than wait for TCP keepalive.
    if (listener !== null && bus.silentForMs() > silenceLimitMs * 3) dropListener(listener)
    if (listener === null) void connectListener()
    else void beat()
    bus.checkConnection()
  }, heartbeatIntervalMs)
  timer.unref()
  await connectListener()
  await beat()
  await bus.waitForFirstHeartbeat()

  return {
    async publish(message) {
      try {
        await database.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ ...message, origin: busId })])
      } catch (error) {
        onError?.(error)
      }
    },
    subscribe: (each) => bus.add(each),
    isConnected: () => listener !== null && bus.isConnected(),
    async close() {
      isClosed = true
      clearInterval(timer)
      bus.clear()
      const client = listener
      listener = null
      if (client)
        await finishesWithin(
          client.end().catch((error: unknown) => onError?.(error)),
          options.timeoutMs,
        )
    },
  }
}

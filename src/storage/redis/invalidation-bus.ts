/**
 * The invalidation bus over Redis pub/sub. Every node publishes on one channel and listens on
 * it; a node ignores its own messages. Pub/sub delivers at most once and keeps nothing for a
 * node that is not listening, so the bus also watches its own subscription: it sends itself a
 * heartbeat a few times a second, and when the heartbeat stops arriving (a dropped or stalled
 * connection, a Redis that is down or paused) it reports itself disconnected, and the node stops
 * trusting its copies until heartbeats flow again.
 */
import { randomUUID } from 'node:crypto'
import { parseInvalidation, type InvalidationBus } from '../../core/invalidation/bus.ts'
import { createBusListeners } from '../invalidation-listeners.ts'
import type { RedisConnection, RedisSubscription } from './connection.ts'

export interface RedisInvalidationBus extends InvalidationBus {
  close(): Promise<void>
}

export interface RedisInvalidationBusOptions {
  redis: RedisConnection
  keyPrefix: string
  /** How often the bus checks its own subscription. */
  heartbeatIntervalMs?: number
  /** Past this long without hearing its heartbeat, the bus counts as disconnected. */
  silenceLimitMs?: number
  /** Failures that have no caller to go to (a publish, a listener). */
  onError?(error: unknown): void
}

export async function openRedisInvalidationBus(options: RedisInvalidationBusOptions): Promise<RedisInvalidationBus> {
  const { redis, keyPrefix, onError } = options
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 200
  const silenceLimitMs = options.silenceLimitMs ?? 1500
  const busId = randomUUID()
  const channel = `${keyPrefix}:invalidation`
  const heartbeatChannel = `${keyPrefix}:invalidation:heartbeat:${busId}`
  const bus = createBusListeners({ silenceLimitMs, onError })

  function receive(from: string, text: string): void {
    if (from === heartbeatChannel) {
      bus.heard()
      return
    }
    let origin: unknown
    try {
      origin = (JSON.parse(text) as { origin?: unknown }).origin
    } catch {
      return
    }
    const message = parseInvalidation(text)
    if (origin === busId || message === null) return
    bus.deliver(message)
  }

  const subscription: RedisSubscription = await redis.subscribe([channel, heartbeatChannel], receive, () => bus.lost())
  const beat = () =>
    redis.publish(heartbeatChannel, String(Date.now())).catch(() => {
      // A failed heartbeat is itself the signal: silence turns the bus disconnected.
    })
  const timer = setInterval(() => {
    void beat()
    bus.checkConnection()
  }, heartbeatIntervalMs)
  timer.unref()
  await beat()
  // The first heartbeat normally returns within a round-trip; a node still starts without it,
  // disconnected (copies unused) until heartbeats arrive.
  await bus.waitForFirstHeartbeat()

  return {
    async publish(message) {
      try {
        await redis.publish(channel, JSON.stringify({ ...message, origin: busId }))
      } catch (error) {
        onError?.(error)
      }
    },
    subscribe: (listener) => bus.add(listener),
    isConnected: bus.isConnected,
    async close() {
      clearInterval(timer)
      bus.clear()
      await subscription.close().catch((error: unknown) => onError?.(error))
    },
  }
}

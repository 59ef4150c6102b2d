/**
 * The half every network invalidation bus shares, whatever carries its messages (Redis pub/sub,
 * PostgreSQL LISTEN/NOTIFY): the listeners of this node, and whether the bus can be trusted. A
 * bus sends itself a heartbeat; while it hears it, it is connected. When the heartbeat stops, or
 * comes back, messages may have been missed, so every listener is told to reset.
 */
import type { Invalidation, InvalidationListener } from '../core/invalidation/bus.ts'

export interface BusListeners {
  /** Adds a listener; returns the function that removes it. */
  add(listener: InvalidationListener): () => void
  clear(): void
  /** Hands a message from another node to every listener. */
  deliver(message: Invalidation): void
  /** The bus heard its own heartbeat (or has just started listening). */
  heard(): void
  /** The link is gone: the bus is disconnected until it hears itself again. */
  lost(): void
  /** Milliseconds since the bus last heard itself. */
  silentForMs(): number
  isConnected(): boolean
  /** Resets every listener when the bus has become connected or disconnected since the last check. */
  checkConnection(): void
  /** Waits, at most the silence limit, for the first heartbeat; a node starts without it, disconnected. */
  waitForFirstHeartbeat(): Promise<void>
}

export function createBusListeners(options: {
  silenceLimitMs: number
  onError?: ((error: unknown) => void) | undefined
}): BusListeners {
  const { silenceLimitMs, onError } = options
  const listeners = new Set<InvalidationListener>()
  let lastHeardAtMs = 0
  let wasConnected = false

  const isConnected = () => Date.now() - lastHeardAtMs < silenceLimitMs

  async function tellListeners(call: (listener: InvalidationListener) => void | Promise<void>): Promise<void> {
    for (const listener of [...listeners]) {
      try {
        await call(listener)
      } catch (error) {
        onError?.(error)
      }
    }
  }

  function checkConnection(): void {
    const connected = isConnected()
    if (connected === wasConnected) return
    wasConnected = connected
    void tellListeners((listener) => listener.onReset())
  }

  return {
    add(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    clear: () => listeners.clear(),
    deliver(message) {
      void tellListeners((listener) => listener.onInvalidation(message))
    },
    heard() {
      lastHeardAtMs = Date.now()
      checkConnection()
    },
    lost() {
      lastHeardAtMs = 0
      checkConnection()
    },
    silentForMs: () => Date.now() - lastHeardAtMs,
    isConnected,
    checkConnection,
    async waitForFirstHeartbeat() {
      for (let waitedMs = 0; !isConnected() && waitedMs < silenceLimitMs; waitedMs += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      checkConnection()
    },
  }
}

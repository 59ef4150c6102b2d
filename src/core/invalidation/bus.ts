/**
 * The invalidation bus: how one node tells the others that something they may hold in memory
 * changed in the stores (a session ended, a user's roles or account changed, the signing keys
 * changed). Nodes keep short-lived copies of sessions and keys so most requests cost no store
 * round-trip; the bus makes a logout or a role change on one node hold on every node at once,
 * instead of after the copies' lifetime.
 *
 * A bus may lose messages (a dropped connection). It then reports a reset, and while it is not
 * connected `isConnected()` is false: nodes must stop trusting their copies until it is back.
 */

import { parseStampedEvent, type StampedEvent } from '../realtime/events.ts'

export type Invalidation =
  | { kind: 'session'; sessionId: string }
  | { kind: 'user'; userId: string }
  | { kind: 'signing-keys' }
  /** A real-time event for the stream clients of every node (realtime/event-feed.ts). */
  | { kind: 'event'; stamped: StampedEvent }

export interface InvalidationListener {
  /** A message published by another node. */
  onInvalidation(message: Invalidation): void | Promise<void>
  /** Messages may have been lost: drop every copy. */
  onReset(): void | Promise<void>
}

export interface InvalidationBus {
  /**
   * Tells every other node. Never rejects: a message that cannot be sent is reported by the bus
   * itself, and the copies' lifetime (`TESSERA_SESSION_CACHE_TTL`) still bounds staleness.
   */
  publish(message: Invalidation): Promise<void>
  /** Registers a listener; returns the function that removes it. */
  subscribe(listener: InvalidationListener): () => void
  /** False while messages from other nodes may be missed. */
  isConnected(): boolean
}

/** Reads a message received from another node; null for anything malformed. */
export function parseInvalidation(text: string): Invalidation | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // Not ours, or corrupted: ignoring it is safe, every copy expires on its own.
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const { kind, sessionId, userId, stamped } = value as Record<string, unknown>
  if (kind === 'event') {
    const event = parseStampedEvent(stamped)
    return event === null ? null : { kind, stamped: event }
  }
  if (kind === 'session' && typeof sessionId === 'string') return { kind, sessionId }
  if (kind === 'user' && typeof userId === 'string') return { kind, userId }
  if (kind === 'signing-keys') return { kind }
  return null
}

/**
 * The bus of a single process: every listener hears each message, the publisher's own too
 * (forgetting a copy twice is harmless). One node needs nothing more; tests share one between
 * several cores so that they act as nodes.
 */
export function createLocalInvalidationBus(): InvalidationBus {
  const listeners = new Set<InvalidationListener>()
  return {
    async publish(message) {
      for (const listener of [...listeners]) {
        try {
          await listener.onInvalidation(message)
        } catch {
          // A listener's failure must not stop delivery to the others; each copy still expires.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    isConnected: () => true,
  }
}

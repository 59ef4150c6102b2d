/**
 * Keeps this node's in-memory copies coherent with the other nodes: what the bus reports as
 * changed is dropped (sessions, a user's sessions) or reloaded (signing keys), and everything is
 * dropped when the bus may have lost messages.
 */
import type { Sessions } from '../sessions/sessions.ts'
import type { KeyRing } from '../tokens/signing-keys.ts'
import type { InvalidationBus } from './bus.ts'

/** Subscribes the node's caches to the bus; returns the function that unsubscribes them. */
export function connectCachesToBus(deps: { bus: InvalidationBus; sessions: Sessions; keyRing: KeyRing }): () => void {
  const { bus, sessions, keyRing } = deps
  return bus.subscribe({
    async onInvalidation(message) {
      switch (message.kind) {
        case 'session':
          sessions.forgetSession(message.sessionId)
          return
        case 'user':
          sessions.forgetUser(message.userId)
          return
        case 'signing-keys':
          await keyRing.loadKeys()
          return
        case 'event':
          return
      }
    },
    async onReset() {
      sessions.forgetAllSessions()
      await keyRing.loadKeys()
    },
  })
}

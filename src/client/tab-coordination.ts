/**
 * Coordinates the tabs (and workers) that share one stored session. Refresh tokens rotate with
 * reuse detection, so two tabs redeeming the same token is what an attacker looks like; the Web
 * Locks API lets one tab refresh while the others wait. The one that refreshed announces the new
 * session on a BroadcastChannel before it lets go of the lock: Chromium propagates localStorage
 * writes to other tabs asynchronously, so a waiting tab may get the lock before it sees the
 * write, and takes the announced session instead. Where Web Locks are missing, every tab
 * refreshes on its own and Tessera's grace window gives each the same successor, so the session
 * survives either way, at the cost of a second request. The channel also tells the other tabs
 * when the session ends, so they can react at once instead of on their next call. Messages stay
 * within the origin, like the storage they mirror.
 */
import type { StoredSession } from './token-storage.ts'

/**
 * Why a session ended, as the session-end event tells it: `signed_out` (here or in another tab),
 * `refresh_refused` (the refresh token was refused: revoked, expired or reused),
 * `unauthorized` (Tessera refused the session as a credential).
 *
 * @example
 * ```ts
 * import type { SessionEndReason } from 'tessera/client'
 *
 * const messages: Record<SessionEndReason, string> = {
 *   signed_out: 'You signed out.',
 *   refresh_refused: 'Your session has ended.',
 *   unauthorized: 'Your session has ended.',
 * }
 * ```
 */
export type SessionEndReason = 'signed_out' | 'refresh_refused' | 'unauthorized'

export interface SessionEndedMessage {
  type: 'session-ended'
  sessionId: string
  reason: SessionEndReason
}

export interface SessionUpdatedMessage {
  type: 'session-updated'
  session: StoredSession
}

export type TabMessage = SessionEndedMessage | SessionUpdatedMessage

export interface TabCoordination {
  /**
   * Runs `work` while no other tab runs one for the same `key`; at once where there are no
   * locks. `hadToWait` tells whether another tab held the lock first.
   */
  exclusive<T>(key: string, work: (hadToWait: boolean) => Promise<T>): Promise<T>
  announce(message: TabMessage): void
  onMessage(listener: (message: TabMessage) => void): void
  close(): void
}

interface LockManagerLike {
  request<T>(name: string, callback: (lock: unknown) => Promise<T>): Promise<T>
  request<T>(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<T>): Promise<T>
}

interface ChannelLike {
  postMessage(message: unknown): void
  close(): void
  onmessage: ((event: { data: unknown }) => void) | null
  /** Node only: lets the process exit while the channel is open. */
  unref?(): void
}

type ChannelConstructor = new (name: string) => ChannelLike

function isTabMessage(value: unknown): value is TabMessage {
  if (typeof value !== 'object' || value === null) return false
  const message = value as Record<string, unknown>
  if (message.type === 'session-updated') return typeof message.session === 'object' && message.session !== null
  return message.type === 'session-ended' && typeof message.sessionId === 'string' && typeof message.reason === 'string'
}

export function createTabCoordination(name: string): TabCoordination {
  const platform = globalThis as unknown as {
    navigator?: { locks?: LockManagerLike }
    BroadcastChannel?: ChannelConstructor
  }
  const locks = platform.navigator?.locks ?? null
  const channel = platform.BroadcastChannel ? new platform.BroadcastChannel(name) : null
  channel?.unref?.()
  const listeners: Array<(message: TabMessage) => void> = []
  if (channel) {
    channel.onmessage = (event) => {
      if (!isTabMessage(event.data)) return
      for (const listener of listeners) listener(event.data)
    }
  }
  return {
    exclusive(key, work) {
      if (!locks) return work(false)
      const lockName = `${name} ${key}`
      return locks.request(lockName, { ifAvailable: true }, (lock) =>
        lock ? work(false) : locks.request(lockName, () => work(true)),
      )
    },
    announce: (message) => channel?.postMessage(message),
    onMessage: (listener) => {
      listeners.push(listener)
    },
    close: () => channel?.close(),
  }
}

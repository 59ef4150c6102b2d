/**
 * Coordinates the tabs (and workers) that share one stored session. Refresh tokens rotate with
 * reuse detection, so two tabs redeeming the same token is what an attacker looks like; the Web
 * Locks API lets one tab refresh while the others wait and then read its result from the shared
 * storage. Where Web Locks are missing, every tab refreshes on its own and Tessera's grace window
 * gives each the same successor, so the session survives either way, at the cost of a second
 * request. A BroadcastChannel tells the other tabs when the session ends, so they can react at
 * once instead of on their next call. Messages carry session ids, never tokens: the storage is
 * the one place tokens are read from.
 */

/** Why a session ended, as the session-end event tells it. */
export type SessionEndReason = 'signed_out' | 'refresh_refused' | 'unauthorized'

export interface SessionEndedMessage {
  type: 'session-ended'
  sessionId: string
  reason: SessionEndReason
}

export interface TabCoordination {
  /** Runs `work` while no other tab sharing this name runs one; at once where there are no locks. */
  exclusive<T>(work: () => Promise<T>): Promise<T>
  announce(message: SessionEndedMessage): void
  onMessage(listener: (message: SessionEndedMessage) => void): void
  close(): void
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>
}

interface ChannelLike {
  postMessage(message: unknown): void
  close(): void
  onmessage: ((event: { data: unknown }) => void) | null
  /** Node only: lets the process exit while the channel is open. */
  unref?(): void
}

type ChannelConstructor = new (name: string) => ChannelLike

function isSessionEndedMessage(value: unknown): value is SessionEndedMessage {
  if (typeof value !== 'object' || value === null) return false
  const message = value as Record<string, unknown>
  return message.type === 'session-ended' && typeof message.sessionId === 'string' && typeof message.reason === 'string'
}

export function createTabCoordination(name: string): TabCoordination {
  const platform = globalThis as unknown as { navigator?: { locks?: LockManagerLike }; BroadcastChannel?: ChannelConstructor }
  const locks = platform.navigator?.locks ?? null
  const channel = platform.BroadcastChannel ? new platform.BroadcastChannel(name) : null
  channel?.unref?.()
  const listeners: Array<(message: SessionEndedMessage) => void> = []
  if (channel) {
    channel.onmessage = (event) => {
      if (!isSessionEndedMessage(event.data)) return
      for (const listener of listeners) listener(event.data)
    }
  }
  return {
    exclusive: (work) => (locks ? locks.request(`${name}:refresh`, work) : work()),
    announce: (message) => channel?.postMessage(message),
    onMessage: (listener) => {
      listeners.push(listener)
    },
    close: () => channel?.close(),
  }
}

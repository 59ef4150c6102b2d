/** The shapes of the game APIs (devices, session and player data, tickets) the SDK returns. */
import type { SignedIn } from './api-types.ts'

/**
 * A device linked to the account.
 *
 * @example
 * ```ts
 * import type { Device } from 'tessera/client'
 *
 * const label = (device: Device) => `${device.deviceId}, last used ${device.lastUsedAt}`
 * ```
 */
export interface Device {
  /** The handle to unlink it with. */
  id: string
  deviceId: string
  /** ISO 8601. */
  createdAt: string
  lastUsedAt: string
}

/**
 * What a device sign-in answers. `deviceSecret` is set only when the call created the device's
 * guest account: keep it on the device, it is never shown again.
 *
 * @example
 * ```ts
 * import type { DeviceSignedIn } from 'tessera/client'
 *
 * const remember = ({ deviceSecret }: DeviceSignedIn) => { if (deviceSecret) localStorage.setItem('device-secret', deviceSecret) }
 * ```
 */
export interface DeviceSignedIn extends SignedIn {
  device: Device
  deviceSecret: string | null
}

/**
 * A versioned JSON document (session data or player data) and its ETag, to send back on a write.
 *
 * @example
 * ```ts
 * import type { VersionedData } from 'tessera/client'
 *
 * const gold = (state: VersionedData<{ gold?: number }>) => state.data.gold ?? 0
 * ```
 */
export interface VersionedData<T extends Record<string, unknown> = Record<string, unknown>> {
  data: T
  etag: string
}

/**
 * Reads and writes one document with optimistic concurrency: a write names the ETag it read and
 * fails with `precondition_failed` when another write came first.
 *
 * @example
 * ```ts
 * import { TesseraError, type DataDocument } from 'tessera/client'
 *
 * async function addGold(doc: DataDocument, amount: number) {
 *   for (;;) {
 *     const { data, etag } = await doc.get()
 *     try {
 *       return await doc.patch({ gold: Number(data.gold ?? 0) + amount }, etag)
 *     } catch (error) {
 *       if (!(error instanceof TesseraError && error.code === 'precondition_failed')) throw error
 *     }
 *   }
 * }
 * ```
 */
export interface DataDocument {
  get(): Promise<VersionedData>
  /** Replaces the document. */
  replace(data: Record<string, unknown>, etag: string): Promise<VersionedData>
  /** Applies a JSON Merge Patch (RFC 7396): members set to null are removed. */
  patch(patch: Record<string, unknown>, etag: string): Promise<VersionedData>
}

/**
 * A one-time ticket for a game server: valid 30 seconds, once, for its audience.
 *
 * @example
 * ```ts
 * import type { Ticket } from 'tessera/client'
 *
 * const connect = (ticket: Ticket) => new WebSocket(`wss://game.example/play?ticket=${encodeURIComponent(ticket.ticket)}`)
 * ```
 */
export interface Ticket {
  ticket: string
  audience: string
  expiresAt: string
  expiresInSeconds: number
}

export interface DeviceJson {
  id: string
  device_id: string
  created_at: string
  last_used_at: string
}

export function readDevice(json: DeviceJson): Device {
  return { id: json.id, deviceId: json.device_id, createdAt: json.created_at, lastUsedAt: json.last_used_at }
}

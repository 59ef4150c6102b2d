/**
 * Where a client keeps what it holds of its session. The refresh token is the sensitive part:
 * whoever reads it can keep the session alive until it is revoked (rotation with reuse detection
 * makes its theft visible, and ends the session, once both parties use it). Memory is the
 * default; localStorage lets the tabs of one origin share one session and survive a reload, at
 * the price of exposing the refresh token to any script that runs on the origin (XSS) and
 * keeping it on disk.
 */

/**
 * What a client holds of its session. Times are milliseconds since the epoch (`Date.now()`).
 *
 * @example
 * ```ts
 * import { localTokenStorage, type StoredSession } from 'tessera/client'
 *
 * const held: StoredSession | null = await localTokenStorage().get()
 * const isSignedIn = held !== null
 * ```
 */
export interface StoredSession {
  transport: 'token' | 'cookie'
  sessionId: string
  /** The bearer token; in cookie transport, the last one got from the cookie session (or null). */
  accessToken: string | null
  /** Token transport only: spent by the next refresh. */
  refreshToken: string | null
  /** When the access token should be replaced: some seconds before it expires. */
  refreshAt: number
  /** Cookie transport: the session's CSRF token, for clients that send no `Origin`. */
  csrfToken: string | null
}

/**
 * A place to keep the session. Calls may return a promise (IndexedDB, a native keychain).
 * Tabs share a session only when they share the storage; give each storage of a page its own
 * `name` when a page holds several sessions.
 *
 * @example
 * ```ts
 * import { createTesseraClient, type TokenStorage, type StoredSession } from 'tessera/client'
 *
 * // sessionStorage: one session per tab, kept across reloads of that tab
 * const perTab: TokenStorage = {
 *   name: 'tessera',
 *   get: () => JSON.parse(sessionStorage.getItem('tessera') ?? 'null') as StoredSession | null,
 *   set: (session) => sessionStorage.setItem('tessera', JSON.stringify(session)),
 *   clear: () => sessionStorage.removeItem('tessera'),
 * }
 * const client = createTesseraClient({ baseUrl: 'https://auth.example', storage: perTab })
 * ```
 */
export interface TokenStorage {
  /** Names the shared refresh lock and broadcast channel of the tabs that share this storage. */
  readonly name: string
  get(): StoredSession | null | Promise<StoredSession | null>
  set(session: StoredSession): void | Promise<void>
  clear(): void | Promise<void>
}

/**
 * Keeps the session in this page's memory only: gone on reload, never on disk, and not shared
 * with other tabs (each tab signs in on its own). The default.
 *
 * @example
 * ```ts
 * import { createTesseraClient, memoryTokenStorage } from 'tessera/client'
 *
 * const client = createTesseraClient({ baseUrl: 'https://auth.example', storage: memoryTokenStorage() })
 * ```
 */
export function memoryTokenStorage(name = 'tessera'): TokenStorage {
  let held: StoredSession | null = null
  return {
    name,
    get: () => held,
    set: (session) => {
      held = { ...session }
    },
    clear: () => {
      held = null
    },
  }
}

function isStoredSession(value: unknown): value is StoredSession {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Record<string, unknown>
  const isNullableString = (field: unknown) => field === null || typeof field === 'string'
  return (
    (record.transport === 'token' || record.transport === 'cookie') &&
    typeof record.sessionId === 'string' &&
    isNullableString(record.accessToken) &&
    isNullableString(record.refreshToken) &&
    isNullableString(record.csrfToken) &&
    typeof record.refreshAt === 'number'
  )
}

/**
 * Keeps the session in `localStorage` under `key`: shared by every tab of the origin (their
 * refreshes are coordinated, so one rotation serves them all) and kept across reloads.
 * Any script running on the origin can read it, the refresh token included: use it only on
 * pages with a strict Content-Security-Policy and no third-party scripts, or prefer the cookie
 * transport, whose session token no script can read.
 *
 * @example
 * ```ts
 * import { createTesseraClient, localTokenStorage } from 'tessera/client'
 *
 * const client = createTesseraClient({ baseUrl: 'https://auth.example', storage: localTokenStorage('game-session') })
 * ```
 */
export function localTokenStorage(key = 'tessera-session', storage: Storage = globalThis.localStorage): TokenStorage {
  return {
    name: key,
    get() {
      const text = storage.getItem(key)
      if (text === null) return null
      try {
        const value: unknown = JSON.parse(text)
        return isStoredSession(value) ? value : null
      } catch {
        // Another script wrote something else under the key: treat it as no session.
        return null
      }
    },
    set: (session) => storage.setItem(key, JSON.stringify(session)),
    clear: () => storage.removeItem(key),
  }
}

/** The shapes the SDK returns, in camelCase, and their readers from Tessera's JSON. */

/**
 * An account as its owner sees it.
 *
 * @example
 * ```ts
 * import type { User } from 'tessera/client'
 *
 * const isAdmin = (user: User) => user.roles.includes('admin')
 * ```
 */
export interface User {
  id: string
  /** Null for a guest account (signed in by a device), until it adds a username. */
  username: string | null
  roles: string[]
  /** ISO 8601. */
  createdAt: string
}

/**
 * One of the caller's sessions (`client.sessions.list()`).
 *
 * @example
 * ```ts
 * import type { SessionInfo } from 'tessera/client'
 *
 * const describe = (session: SessionInfo) => `${session.userAgent} from ${session.ip}${session.isCurrent ? ' (this one)' : ''}`
 * ```
 */
export interface SessionInfo {
  id: string
  transport: 'token' | 'cookie'
  /** ISO 8601, as every time here. */
  createdAt: string
  lastSeenAt: string
  expiresAt: string
  ip: string
  userAgent: string
  isCurrent: boolean
}

/**
 * What a sign-in (or a password change) answers: the user and the new session's public id.
 *
 * @example
 * ```ts
 * import type { SignedIn } from 'tessera/client'
 *
 * const greet = ({ user }: SignedIn) => `Welcome, ${user.username}`
 * ```
 */
export interface SignedIn {
  user: User
  sessionId: string
}

/**
 * An access token for the current session, for a game client or another API.
 *
 * @example
 * ```ts
 * import type { AccessToken } from 'tessera/client'
 *
 * const launch = (token: AccessToken) => game.connect({ bearer: token.accessToken })
 * ```
 */
export interface AccessToken {
  accessToken: string
  expiresInSeconds: number
  sessionId: string
}

export interface UserJson {
  id: string
  username: string | null
  roles: string[]
  created_at: string
}

export interface SessionJson {
  id: string
  transport: 'token' | 'cookie'
  created_at: string
  last_seen_at: string
  expires_at: string
  ip: string
  user_agent: string
  current: boolean
}

export interface SignInJson {
  session_id: string
  user: UserJson
  access_token?: string
  expires_in?: number
  refresh_token?: string
  csrf_token?: string
}

export function readUser(json: UserJson): User {
  return { id: json.id, username: json.username, roles: [...json.roles], createdAt: json.created_at }
}

export function readSession(json: SessionJson): SessionInfo {
  return {
    id: json.id,
    transport: json.transport,
    createdAt: json.created_at,
    lastSeenAt: json.last_seen_at,
    expiresAt: json.expires_at,
    ip: json.ip,
    userAgent: json.user_agent,
    isCurrent: json.current,
  }
}

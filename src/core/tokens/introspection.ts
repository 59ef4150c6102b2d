/**
 * Token introspection (RFC 7662) and revocation (RFC 7009) for resource servers. Both answer in
 * real time from the session store: an access token whose session has ended is inactive at once,
 * whatever its `exp`, and revocation ends the session itself (by `sid`, never by token bytes), so
 * a re-encoded copy of a revoked token is just as dead. Roles are the user's current ones, not
 * the ones frozen in the token.
 */
import type { Sessions } from '../sessions/sessions.ts'
import type { AccessTokenClaims, AccessTokens } from './access-tokens.ts'
import type { RefreshTokens } from './refresh-tokens.ts'
import type { SessionRecord } from '../sessions/store.ts'
import { computeSessionEndsAt } from '../sessions/session-lifetime.ts'
import { isGuest } from '../devices/store.ts'

export type TokenType = 'access_token' | 'refresh_token'

export interface ActiveToken {
  active: true
  tokenType: TokenType
  userId: string
  /** Null for a guest account, which has none. */
  username: string | null
  sessionId: string
  roles: string[]
  /** The application the token was issued to (`client_id`). */
  clientId: string
  /** Seconds since the epoch, as in JWT claims. */
  issuedAt: number
  expiresAt: number
  /** The `jti` of an access token; null for a refresh token. */
  tokenId: string | null
}

export type Introspection = ActiveToken | { active: false }

export interface TokenIntrospection {
  /** What a token is now; `{ active: false }` for anything not live (no reason given). */
  introspectToken(token: string, hint?: TokenType): Promise<Introspection>
  /**
   * The live session a revocation of this token ends (a verified access token's, or that of any
   * member of a refresh-token family), with the kind of token that named it; null otherwise.
   */
  findRevocableSession(
    token: string,
    hint?: TokenType,
  ): Promise<{ session: SessionRecord; tokenType: TokenType } | null>
}

const inactive = { active: false } as const
const toSeconds = (instant: Date) => Math.floor(instant.getTime() / 1000)

function tryOrder(token: string, hint: TokenType | undefined): TokenType[] {
  // The hint only orders the lookups (RFC 7009 §2.1): a wrong hint still finds the token.
  const first = hint ?? (token.includes('.') ? 'access_token' : 'refresh_token')
  return first === 'access_token' ? ['access_token', 'refresh_token'] : ['refresh_token', 'access_token']
}

export function createTokenIntrospection(deps: {
  accessTokens: AccessTokens
  refreshTokens: RefreshTokens
  sessions: Sessions
  settings: {
    idleTimeoutSeconds: number
    /** The `client_id` of sessions: every session comes from a sign-in to this application. */
    clientId: string
  }
}): TokenIntrospection {
  const { accessTokens, refreshTokens, sessions, settings } = deps

  async function introspectAccessToken(token: string): Promise<Introspection> {
    const claims: AccessTokenClaims | null = await accessTokens.verifyAccessToken(token)
    if (!claims) return inactive
    const active = await sessions.resolveSessionId(claims.sid)
    if (!active || active.user.id !== claims.sub) return inactive
    return {
      active: true,
      tokenType: 'access_token',
      userId: active.user.id,
      username: isGuest(active.user) ? null : active.user.username,
      sessionId: active.session.id,
      roles: active.user.roles,
      clientId: claims.clientId,
      issuedAt: claims.iat,
      expiresAt: claims.exp,
      tokenId: claims.jti,
    }
  }

  async function introspectRefreshToken(token: string): Promise<Introspection> {
    const member = await refreshTokens.findRefreshToken(token)
    if (!member || member.rotatedAt !== null) return inactive
    const active = await sessions.resolveSessionId(member.sessionId)
    if (!active) return inactive
    return {
      active: true,
      tokenType: 'refresh_token',
      userId: active.user.id,
      username: isGuest(active.user) ? null : active.user.username,
      sessionId: active.session.id,
      roles: active.user.roles,
      clientId: settings.clientId,
      issuedAt: toSeconds(member.issuedAt),
      expiresAt: toSeconds(computeSessionEndsAt(active.session, settings.idleTimeoutSeconds)),
      tokenId: null,
    }
  }

  /** The session id a token names: a verified access token's `sid`, or any member of a family. */
  async function findNamedSessionId(token: string, tokenType: TokenType): Promise<string | null> {
    if (tokenType === 'access_token') {
      const claims = await accessTokens.verifyAccessToken(token)
      return claims?.sid ?? null
    }
    return (await refreshTokens.findRefreshToken(token))?.sessionId ?? null
  }

  return {
    async introspectToken(token, hint) {
      for (const tokenType of tryOrder(token, hint)) {
        const answer =
          tokenType === 'access_token' ? await introspectAccessToken(token) : await introspectRefreshToken(token)
        if (answer.active) return answer
      }
      return inactive
    },

    async findRevocableSession(token, hint) {
      for (const tokenType of tryOrder(token, hint)) {
        const sessionId = await findNamedSessionId(token, tokenType)
        if (sessionId === null) continue
        const active = await sessions.resolveSessionId(sessionId)
        return active ? { session: active.session, tokenType } : null
      }
      return null
    },
  }
}

/**
 * Token introspection (RFC 7662) and revocation (RFC 7009) for resource servers. Both answer in
 * real time from the session store: an access token whose session has ended is inactive at once,
 * whatever its `exp`, and revocation ends the session itself (by `sid`, never by token bytes), so
 * a re-encoded copy of a revoked token is just as dead. Roles are the user's current ones, not
 * the ones frozen in the token.
 */
import type { Clock } from '../clock.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { AccessTokenClaims, AccessTokens } from './access-tokens.ts'
import type { RefreshTokens } from './refresh-tokens.ts'
import { ignoreTokenEvent, type RecordTokenEvent } from './token-events.ts'

export type TokenType = 'access_token' | 'refresh_token'

export interface ActiveToken {
  active: true
  tokenType: TokenType
  userId: string
  username: string
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
  /** Ends the session behind a live token; does nothing for any other input. */
  revokeToken(token: string, options: { hint?: TokenType; clientId: string | null }): Promise<void>
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
  clock: Clock
  settings: {
    idleTimeoutSeconds: number
    /** The `client_id` of sessions: every session comes from a sign-in to this application. */
    clientId: string
  }
  recordTokenEvent?: RecordTokenEvent
}): TokenIntrospection {
  const { accessTokens, refreshTokens, sessions, clock, settings } = deps
  const recordTokenEvent = deps.recordTokenEvent ?? ignoreTokenEvent

  async function introspectAccessToken(token: string): Promise<Introspection> {
    const claims: AccessTokenClaims | null = await accessTokens.verifyAccessToken(token)
    if (!claims) return inactive
    const active = await sessions.resolveSessionId(claims.sid)
    if (!active || active.user.id !== claims.sub) return inactive
    return {
      active: true,
      tokenType: 'access_token',
      userId: active.user.id,
      username: active.user.username,
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
    const idleEndMs = active.session.lastSeenAt.getTime() + settings.idleTimeoutSeconds * 1000
    return {
      active: true,
      tokenType: 'refresh_token',
      userId: active.user.id,
      username: active.user.username,
      sessionId: active.session.id,
      roles: active.user.roles,
      clientId: settings.clientId,
      issuedAt: toSeconds(member.issuedAt),
      expiresAt: toSeconds(new Date(Math.min(idleEndMs, active.session.absoluteExpiresAt.getTime()))),
      tokenId: null,
    }
  }

  /** The session a token can end: a verified access token's `sid`, or any member of a family. */
  async function findRevocableSession(token: string, tokenType: TokenType): Promise<string | null> {
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

    async revokeToken(token, { hint, clientId }) {
      for (const tokenType of tryOrder(token, hint)) {
        const sessionId = await findRevocableSession(token, tokenType)
        if (sessionId === null) continue
        const ended = await sessions.endSession(sessionId)
        if (ended) {
          recordTokenEvent({
            type: 'token_revoked',
            at: clock.now(),
            userId: ended.userId,
            sessionId: ended.id,
            tokenType,
            clientId,
          })
        }
        return
      }
    },
  }
}

/**
 * The sign-in flows that span accounts, sessions and tokens: log in, refresh, resolve the caller
 * of a request, change the password, log out. Every failure that could tell an attacker which
 * check failed collapses into one code (`invalid_credentials`, `invalid_grant`) or `null`.
 */
import type { Accounts } from '../accounts/accounts.ts'
import type { UserRecord } from '../accounts/store.ts'
import { TesseraError } from '../errors.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { SessionRecord, SessionTransport } from '../sessions/store.ts'
import type { AccessTokens } from '../tokens/access-tokens.ts'

export interface Principal {
  user: UserRecord
  session: SessionRecord
}

export interface IssuedTokens {
  accessToken: string
  expiresInSeconds: number
  refreshToken: string
}

export interface SignIn {
  user: UserRecord
  session: SessionRecord
  /** Cookie transport only. */
  sessionToken: string | null
  /** Token transport only. */
  tokens: IssuedTokens | null
}

export interface ClientContext {
  ip: string
  userAgent: string
}

export interface Authentication {
  logIn(input: { username: string; password: string; transport: SessionTransport } & ClientContext): Promise<SignIn>
  refreshTokens(refreshToken: string): Promise<{ user: UserRecord; session: SessionRecord; tokens: IssuedTokens }>
  /** The caller behind an access token whose session is still alive, or null. */
  resolveAccessToken(accessToken: string): Promise<Principal | null>
  /** The caller behind a cookie session token, or null. */
  resolveSessionToken(sessionToken: string): Promise<Principal | null>
  /**
   * Changes the password, ends every session of the user, and opens a new session on the same
   * transport: the session id changes with the privilege level (no fixation).
   */
  changePassword(
    principal: Principal,
    input: { currentPassword: string; newPassword: string } & ClientContext,
  ): Promise<SignIn>
  logOut(principal: Principal): Promise<void>
}

export function createAuthentication(deps: {
  accounts: Accounts
  sessions: Sessions
  accessTokens: AccessTokens
}): Authentication {
  const { accounts, sessions, accessTokens } = deps

  async function issueTokens(user: UserRecord, session: SessionRecord, refreshToken: string): Promise<IssuedTokens> {
    const { accessToken, expiresInSeconds } = await accessTokens.issueAccessToken({
      userId: user.id,
      sessionId: session.id,
      roles: user.roles,
    })
    return { accessToken, expiresInSeconds, refreshToken }
  }

  async function openSession(user: UserRecord, transport: SessionTransport, client: ClientContext): Promise<SignIn> {
    const started = await sessions.startSession({ user, transport, ...client })
    const tokens = started.refreshToken === null ? null : await issueTokens(user, started.session, started.refreshToken)
    return { user, session: started.session, sessionToken: started.sessionToken, tokens }
  }

  return {
    async logIn({ username, password, transport, ip, userAgent }) {
      const user = await accounts.authenticateUser({ username, password })
      if (!user) throw new TesseraError('invalid_credentials', 'The username or password is not correct.')
      return openSession(user, transport, { ip, userAgent })
    },

    async refreshTokens(refreshToken) {
      const { active, refreshToken: nextRefreshToken } = await sessions.rotateRefreshToken(refreshToken)
      return {
        user: active.user,
        session: active.session,
        tokens: await issueTokens(active.user, active.session, nextRefreshToken),
      }
    },

    async resolveAccessToken(accessToken) {
      const claims = await accessTokens.verifyAccessToken(accessToken)
      if (!claims) return null
      const active = await sessions.resolveSessionId(claims.sid)
      if (!active || active.user.id !== claims.sub) return null
      return active
    },

    resolveSessionToken: (sessionToken) => sessions.resolveSessionToken(sessionToken),

    async changePassword(principal, { currentPassword, newPassword, ip, userAgent }) {
      await accounts.changePassword({ userId: principal.user.id, currentPassword, newPassword })
      await sessions.endUserSessions(principal.user.id, null)
      return openSession(principal.user, principal.session.transport, { ip, userAgent })
    },

    async logOut(principal) {
      await sessions.endUserSession(principal.user.id, principal.session.id)
    },
  }
}

/**
 * The sign-in flows that span accounts, sessions and tokens: log in, refresh, resolve the caller
 * of a request, change the password, log out. Every failure that could tell an attacker which
 * check failed collapses into one code (`invalid_credentials`, `invalid_grant`) or `null`.
 */
import type { Accounts } from '../accounts/accounts.ts'
import type { Audit } from '../audit/audit.ts'
import type { UserRecord } from '../accounts/store.ts'
import { TesseraError } from '../errors.ts'
import type { Sessions, StartedSession } from '../sessions/sessions.ts'
import type { SessionRecord, SessionTransport } from '../sessions/store.ts'
import type { AccessTokens } from '../tokens/access-tokens.ts'
import { describeLoginFailure, describePasswordChange, describePasswordChangeFailure, describeSessionStart } from './sign-in-events.ts'

export interface Principal {
  user: UserRecord
  session: SessionRecord
}

export interface IssuedTokens {
  accessToken: string
  expiresInSeconds: number
  refreshToken: string
}

export interface SessionAccessToken {
  accessToken: string
  expiresInSeconds: number
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
  /** The HTTP request id, for the audit trail; null outside a request. */
  requestId: string | null
}

export interface Authentication {
  logIn(input: { username: string; password: string; transport: SessionTransport } & ClientContext): Promise<SignIn>
  refreshTokens(refreshToken: string, context: ClientContext): Promise<{ user: UserRecord; session: SessionRecord; tokens: IssuedTokens }>
  /** The caller behind an access token whose session is still alive, or null. */
  resolveAccessToken(accessToken: string): Promise<Principal | null>
  /** The caller behind a cookie session token, or null. */
  resolveSessionToken(sessionToken: string): Promise<Principal | null>
  /**
   * An access token naming a cookie session in `sid`, so a page can hand its game client or API
   * calls a bearer token without a second sign-in. It lives only as long as the session (Tessera
   * checks `sid` on every request) and comes without a refresh token: the page asks again.
   * Token sessions refresh instead; throws `cookie_session_required` for them.
   */
  issueSessionAccessToken(principal: Principal, context: ClientContext): Promise<SessionAccessToken>
  /**
   * Changes the password, ends every session of the user, and opens a new session on
   * `transport` (by default the current session's): the session id changes with the privilege
   * level (no fixation).
   */
  changePassword(
    principal: Principal,
    input: { currentPassword: string; newPassword: string; transport?: SessionTransport } & ClientContext,
  ): Promise<SignIn>
  logOut(principal: Principal, context: ClientContext): Promise<void>
}

export function createAuthentication(deps: {
  accounts: Accounts
  sessions: Sessions
  accessTokens: AccessTokens
  audit: Audit
}): Authentication {
  const { accounts, sessions, accessTokens, audit } = deps

  async function issueTokens(user: UserRecord, session: SessionRecord, refreshToken: string): Promise<IssuedTokens> {
    const { accessToken, expiresInSeconds } = await accessTokens.issueAccessToken({
      userId: user.id,
      sessionId: session.id,
      roles: user.roles,
    })
    return { accessToken, expiresInSeconds, refreshToken }
  }

  async function openSession(user: UserRecord, transport: SessionTransport, client: ClientContext): Promise<SignIn> {
    const started = await audit.recordChange(
      () => sessions.startSession({ user, transport, ip: client.ip, userAgent: client.userAgent }),
      (result) => describeSessionStart(user, result.session, client),
    )
    return issueSignIn(user, started)
  }

  async function issueSignIn(user: UserRecord, started: StartedSession): Promise<SignIn> {
    const tokens = started.refreshToken === null ? null : await issueTokens(user, started.session, started.refreshToken)
    return { user, session: started.session, sessionToken: started.sessionToken, tokens }
  }

  return {
    async logIn({ username, password, transport, ip, userAgent, requestId }) {
      const client = { ip, userAgent, requestId }
      const user = await accounts.authenticateUser({ username, password })
      if (!user) {
        // The reason is for the audit trail only: the answer is the same for every failure.
        await audit.record(describeLoginFailure(username, await accounts.findUserByUsername(username), client))
        throw new TesseraError('invalid_credentials', 'The username or password is not correct.')
      }
      return openSession(user, transport, client)
    },

    async refreshTokens(refreshToken, context) {
      const { active, refreshToken: nextRefreshToken } = await sessions.rotateRefreshToken(refreshToken, context)
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

    async issueSessionAccessToken({ user, session }, context) {
      // A token session has a refresh token; letting an access token mint access tokens would
      // let a stolen one outlive its expiry for as long as the session lives.
      if (session.transport !== 'cookie') {
        throw new TesseraError('cookie_session_required', 'Only a cookie session can ask for an access token.')
      }
      const issued = await accessTokens.issueAccessToken({ userId: user.id, sessionId: session.id, roles: user.roles })
      await audit.record({
        type: 'access_token_issued',
        outcome: 'success',
        actorUserId: user.id,
        subjectUserId: user.id,
        sessionId: session.id,
        context,
      })
      return issued
    },

    async changePassword(principal, { currentPassword, newPassword, transport, ip, userAgent, requestId }) {
      const client = { ip, userAgent, requestId }
      const userId = principal.user.id
      try {
        await accounts.changePassword({ userId, currentPassword, newPassword })
      } catch (error) {
        if (error instanceof TesseraError) await audit.record(describePasswordChangeFailure(principal, error.code, client))
        throw error
      }
      // The hash is already replaced; the old sessions end and the new one starts together with
      // the events that record it.
      const started = await audit.recordChange(
        async () => {
          const ended = await sessions.listUserSessions(userId)
          await sessions.endUserSessions(userId, null)
          const session = await sessions.startSession({
            user: principal.user,
            transport: transport ?? principal.session.transport,
            ip,
            userAgent,
          })
          return { ended, session }
        },
        ({ ended, session }) => describePasswordChange(principal, ended, session.session, client),
      )
      return issueSignIn(principal.user, started.session)
    },

    async logOut(principal, context) {
      await audit.recordChange(
        () => sessions.endUserSession(principal.user.id, principal.session.id),
        (ended) => (ended ? [{
          type: 'logged_out' as const,
          outcome: 'success' as const,
          reason: 'logout' as const,
          actorUserId: principal.user.id,
          subjectUserId: principal.user.id,
          sessionId: principal.session.id,
          context,
        }] : []),
      )
    },
  }
}

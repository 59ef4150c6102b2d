/**
 * What a user does to get in and out: register, sign in, refresh, find who a request is from,
 * change the password, sign out. Every failure that could tell an attacker which check failed
 * collapses into one code (`invalid_credentials`, `invalid_grant`) or `null`.
 *
 * Password verifications (sign-in and password change) pass the sign-in throttle first: it
 * decides before any argon2 work, so a throttled answer is cheap and reads the same for every
 * username; only a wrong password (`invalid_credentials`) counts as a failure.
 */
import type { Accounts } from '../accounts/accounts.ts'
import type { UserRecord } from '../accounts/store.ts'
import type { Audit } from '../audit/audit.ts'
import type { RefusalSummaries } from '../audit/refusal-summaries.ts'
import type { Clock } from '../clock.ts'
import type { AuditReason } from '../audit/events.ts'
import type { CsrfTokens } from '../auth/csrf-tokens.ts'
import {
  describeLoginFailure,
  describePasswordChange,
  describePasswordChangeFailure,
  describeSessionStart,
} from '../auth/sign-in-events.ts'
import { TesseraError, type ErrorCode } from '../errors.ts'
import type { RequestContext } from '../request-context.ts'
import type { SessionAuthentication, Sessions, StartedSession } from '../sessions/sessions.ts'
import type { EndedSessionNotice, SessionRecord, SessionTransport } from '../sessions/store.ts'
import type { SignInAttempt, SignInThrottle } from '../throttle/sign-in-throttle.ts'
import type { AccessTokens } from '../tokens/access-tokens.ts'
import { undoAfterFailure } from '../undo-after-failure.ts'
import type { UnitOfWork } from '../unit-of-work.ts'
import type { StepUp } from '../auth/step-up.ts'
import type { SecondFactorGate } from './second-factor-sign-in.ts'
import { normalizeEmailAddress, type EmailAddress } from '../email/address.ts'
import type { MailLanguage } from '../email/store.ts'
import { recordSessionsEndedByLimit } from './session-limit.ts'

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

export interface SignInOperations {
  /** Self-service sign-up with the default roles; throws `username_taken`, `invalid_username`, `password_*`. */
  register(
    input: { username: string; password: string; email?: string; language?: MailLanguage },
    context: RequestContext,
  ): Promise<UserRecord>
  signIn(input: { username: string; password: string; transport: SessionTransport } & ClientContext): Promise<SignIn>
  refresh(
    refreshToken: string,
    context: ClientContext,
  ): Promise<{ user: UserRecord; session: SessionRecord; tokens: IssuedTokens }>
  /** The caller behind an access token whose session is still alive, or null. */
  resolveAccessToken(accessToken: string): Promise<Principal | null>
  /** The caller behind a cookie session token, or null. */
  resolveSessionToken(sessionToken: string): Promise<Principal | null>
  /**
   * Why the session of a credential that no longer works ended, when its holder is to be told
   * (`signed_in_elsewhere`: the session limit ended it); null otherwise. Only a credential that
   * is genuine (a validly signed access token, a cookie token of a kept session) is answered.
   */
  explainEndedSession(
    credential: { accessToken: string } | { sessionToken: string },
  ): Promise<EndedSessionNotice | null>
  /**
   * An access token naming a cookie session in `sid`, so a page can hand its game client or API
   * calls a bearer token without a second sign-in. It lives only as long as the session (Tessera
   * checks `sid` on every request) and comes without a refresh token: the page asks again.
   * Token sessions refresh instead; throws `cookie_session_required` for them.
   */
  issueSessionAccessToken(principal: Principal, context: ClientContext): Promise<SessionAccessToken>
  /**
   * Changes the password (an account with a second factor needs a recent authentication with it:
   * `reauthentication_required`), ends every session of the user, and opens a new session on
   * `transport` (by default the current session's): the session id changes with the privilege
   * level (no fixation).
   */
  changePassword(
    principal: Principal,
    input: { currentPassword: string; newPassword: string; transport?: SessionTransport } & ClientContext,
  ): Promise<SignIn>
  signOut(principal: Principal, context: ClientContext): Promise<void>
  /** The CSRF token of a cookie session (for clients that send neither Origin nor Sec-Fetch-Site). */
  createCsrfToken(sessionId: string): string
  isCsrfTokenValid(sessionId: string, presented: string): boolean
}

function isRateLimited(error: unknown): boolean {
  return error instanceof TesseraError && error.code === 'rate_limited'
}

function registrationFailureReason(code: ErrorCode): AuditReason {
  if (code === 'username_taken' || code === 'email_taken') return code
  if (code === 'invalid_username' || code === 'validation_failed' || code === 'invalid_email') return 'invalid_input'
  return 'password_rejected'
}

/** Settles a throttled attempt by how the verification ended. */
async function settleAttempt<T>(attempt: SignInAttempt, work: () => Promise<T>): Promise<T> {
  let result: T
  try {
    result = await work()
  } catch (error) {
    if (error instanceof TesseraError && error.code === 'invalid_credentials') await attempt.recordFailure()
    else await undoAfterFailure(error, () => attempt.cancel())
    throw error
  }
  await attempt.recordSuccess()
  return result
}

export function createSignInOperations(deps: {
  accounts: Accounts
  sessions: Sessions
  accessTokens: AccessTokens
  audit: Audit
  refusals: RefusalSummaries
  unitOfWork: UnitOfWork
  throttle: SignInThrottle
  csrfTokens: CsrfTokens
  clock: Clock
  /** Stops a password sign-in of an account with a second factor at `mfa_required`. */
  secondFactorGate: SecondFactorGate
  stepUp: StepUp
  /** Mail that follows an account change: the verification of an address given at registration, a password-change notice. */
  mail: {
    queueVerificationMail(user: UserRecord, address: EmailAddress, language: MailLanguage): void
    queuePasswordChangedNotice(user: UserRecord): void
  }
}): SignInOperations {
  const {
    accounts,
    sessions,
    accessTokens,
    audit,
    refusals,
    unitOfWork,
    throttle,
    csrfTokens,
    clock,
    secondFactorGate,
    stepUp,
  } = deps

  async function issueTokens(user: UserRecord, session: SessionRecord, refreshToken: string): Promise<IssuedTokens> {
    const { accessToken, expiresInSeconds } = await accessTokens.issueAccessToken({
      userId: user.id,
      username: user.username,
      sessionId: session.id,
      roles: user.roles,
      authentication: session,
    })
    return { accessToken, expiresInSeconds, refreshToken }
  }

  async function issueSignIn(user: UserRecord, started: StartedSession): Promise<SignIn> {
    const tokens = started.refreshToken === null ? null : await issueTokens(user, started.session, started.refreshToken)
    return { user, session: started.session, sessionToken: started.sessionToken, tokens }
  }

  /**
   * Starts a session in its (possibly hot) store, then records it. A session whose event cannot
   * be stored is discarded: its token was never handed out, so nobody holds it either way.
   */
  async function openSession(
    user: UserRecord,
    transport: SessionTransport,
    client: ClientContext,
    cause: 'sign_in' | 'password_changed' = 'sign_in',
    authentication?: SessionAuthentication,
  ): Promise<SignIn> {
    const started = await sessions.startSession({
      user,
      transport,
      ip: client.ip,
      userAgent: client.userAgent,
      ...(authentication ? { authentication } : {}),
    })
    try {
      await audit.record(describeSessionStart(user, started.session, client, cause))
    } catch (error) {
      await undoAfterFailure(error, () => sessions.discardSession(started.session).catch(() => {}))
      throw error
    }
    await recordSessionsEndedByLimit({ sessions, unitOfWork }, started, client)
    return issueSignIn(user, started)
  }

  async function admit(
    username: string,
    context: ClientContext,
    describeRefusal: () => Parameters<Audit['record']>[0],
  ) {
    try {
      return await throttle.admitSignIn({ username, ip: context.ip })
    } catch (error) {
      // A refused attempt is recorded too: the review counts it as a failure (brute force, spraying).
      // Counted per kind and window: a throttled client can repeat it at full speed.
      if (isRateLimited(error)) await refusals.recordRefusal(describeRefusal())
      throw error
    }
  }

  async function signIn({
    username,
    password,
    transport,
    ip,
    userAgent,
    requestId,
  }: Parameters<SignInOperations['signIn']>[0]) {
    const client = { ip, userAgent, requestId }
    const user = await accounts.authenticateUser({ username, password })
    if (!user) {
      // The reason is for the audit trail only: the answer is the same for every failure.
      const existing = await accounts.findUserByUsername(username)
      const isHashUsable = existing === null || accounts.hasUsablePasswordHash(existing)
      await audit.record(describeLoginFailure(username, existing, client, isHashUsable))
      throw new TesseraError('invalid_credentials', 'The username or password is not correct.')
    }
    // Only once the password is right: an account with a second factor gets a challenge, no session.
    await secondFactorGate.requireNoSecondFactor(user, transport, client)
    return openSession(user, transport, client)
  }

  async function changePassword(
    principal: Principal,
    input: Parameters<SignInOperations['changePassword']>[1],
  ): Promise<SignIn> {
    const { currentPassword, newPassword, transport, ip, userAgent, requestId } = input
    const client = { ip, userAgent, requestId }
    const userId = principal.user.id
    let prepared
    try {
      prepared = await accounts.preparePasswordChange({ userId, currentPassword, newPassword })
    } catch (error) {
      if (error instanceof TesseraError)
        await audit.record(describePasswordChangeFailure(principal, error.code, client))
      throw error
    }
    // Named in the events; read first, so an outage of the session store changes nothing.
    const ended = await sessions.listLiveSessions(userId)
    // The new hash and the end of every session are one durable change with its events: there
    // is no moment where the new password works while old sessions are still honoured.
    const user = await unitOfWork.run(async (change) => {
      if (!(await change.stores.accounts.updatePasswordHash(userId, prepared.change, clock.now()))) {
        // Changed by a concurrent request since it was verified: this one proves nothing now.
        throw new TesseraError('invalid_credentials', 'The current password is not correct.')
      }
      const updated = await sessions.endAllSessionsIn(change, userId, 'password_change')
      if (!updated) throw new TesseraError('invalid_credentials', 'The current password is not correct.')
      // A password chosen by the user answers an administrator's requirement of a new one.
      if (updated.isPasswordChangeRequired)
        await change.stores.accounts.setPasswordChangeRequired(userId, false, clock.now())
      for (const event of describePasswordChange(principal, ended, client)) change.record(event)
      return { ...updated, isPasswordChangeRequired: false }
    })
    deps.mail.queuePasswordChangedNotice(user)
    // The new session was authenticated as the one it replaces (the password change proves no second factor).
    return openSession(user, transport ?? principal.session.transport, client, 'password_changed', principal.session)
  }

  return {
    async register({ username, password, email, language = 'en' }, context) {
      try {
        // Checked before the password is hashed: a typo in the address costs no argon2 time.
        const address = email === undefined ? null : normalizeEmailAddress(email)
        const prepared = await accounts.prepareUser({ username, password })
        const user = await unitOfWork.run(async (change) => {
          if ((await change.stores.accounts.insertUser(prepared)) === 'username_taken') {
            throw new TesseraError('username_taken', 'This username is already taken.')
          }
          if (address) {
            const now = clock.now()
            const outcome = await change.stores.emails.setEmail({
              userId: prepared.id,
              address: address.address,
              addressKey: address.key,
              verifiedAt: null,
              language,
              updatedAt: now,
            })
            if (outcome !== 'set')
              throw new TesseraError('email_taken', 'This email address belongs to another account.')
          }
          change.record({
            type: 'user_registered',
            outcome: 'success',
            actorUserId: prepared.id,
            subjectUserId: prepared.id,
            username: prepared.usernameKey,
            details: { roles: prepared.roles.join(','), email: address !== null },
            context,
          })
          return prepared
        })
        if (address) deps.mail.queueVerificationMail(user, address, language)
        return user
      } catch (error) {
        // A refused registration is recorded too: a run of them is how enumeration looks.
        if (error instanceof TesseraError && error.code !== 'service_unavailable') {
          await audit.record({
            type: 'registration_failed',
            outcome: 'failure',
            reason: registrationFailureReason(error.code),
            username,
            context,
          })
        }
        throw error
      }
    },

    async signIn(input) {
      const attempt = await admit(input.username, input, () => ({
        type: 'login_throttled',
        outcome: 'failure',
        reason: 'account_throttled',
        username: input.username,
        context: input,
      }))
      return settleAttempt(attempt, () => signIn(input))
    },

    async refresh(refreshToken, context) {
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

    async explainEndedSession(credential) {
      if ('sessionToken' in credential) return sessions.findEndedNoticeOfToken(credential.sessionToken)
      const claims = await accessTokens.verifyAccessToken(credential.accessToken)
      return claims ? sessions.findEndedNotice(claims.sid) : null
    },

    async issueSessionAccessToken({ user, session }, context) {
      // A token session has a refresh token; letting an access token mint access tokens would
      // let a stolen one outlive its expiry for as long as the session lives.
      if (session.transport !== 'cookie') {
        throw new TesseraError('cookie_session_required', 'Only a cookie session can ask for an access token.')
      }
      const issued = await accessTokens.issueAccessToken({
        userId: user.id,
        username: user.username,
        sessionId: session.id,
        roles: user.roles,
        authentication: session,
      })
      // Recorded, not part of a unit of work: issuing a token changes no stored state.
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

    async changePassword(principal, input) {
      await stepUp.requireRecentSecondFactor(principal)
      const attempt = await admit(principal.user.username, input, () => ({
        type: 'password_change_failed',
        outcome: 'failure',
        reason: 'account_throttled',
        actorUserId: principal.user.id,
        subjectUserId: principal.user.id,
        sessionId: principal.session.id,
        context: input,
      }))
      return settleAttempt(attempt, () => changePassword(principal, input))
    },

    async signOut(principal, context) {
      await unitOfWork.run(async (change) => {
        await sessions.endSessionsIn(change, [principal.session], 'logout')
        change.record({
          type: 'logged_out',
          outcome: 'success',
          reason: 'logout',
          actorUserId: principal.user.id,
          subjectUserId: principal.user.id,
          sessionId: principal.session.id,
          context,
        })
      })
    },

    createCsrfToken: (sessionId) => csrfTokens.createCsrfToken(sessionId),
    isCsrfTokenValid: (sessionId, presented) => csrfTokens.isCsrfTokenValid(sessionId, presented),
  }
}

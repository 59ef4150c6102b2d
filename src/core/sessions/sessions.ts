/**
 * Server-side sessions. A session has a public id (listed, put in the `sid` claim) and, in cookie
 * transport, a separate 256-bit secret token of which the store keeps only the SHA-256; in token
 * transport it is the family of its refresh tokens (see tokens/refresh-tokens.ts). Sessions end on logout,
 * revocation, after `idleTimeoutSeconds` without use (sliding) and at `absoluteTimeoutSeconds`
 * after login, whatever the activity.
 *
 * Where a session ends is decided in the durable store, whichever store holds the session itself
 * (Redis, for scale-out): a session is alive only while its user exists, is enabled, still has the
 * session epoch the session started under, and has not revoked this session by id. Ending
 * sessions writes that fact in a unit of work, with its audit events; deleting the session records
 * afterwards is tidying up, and a failure there cannot bring a session back.
 *
 * Each node keeps short-lived copies of the sessions it has seen (session-cache.ts); changes made
 * through this module drop them at once here and, through the invalidation bus, on other nodes.
 */
import type { AccountStore, UserRecord } from '../accounts/store.ts'
import type { Audit } from '../audit/audit.ts'
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import type { Invalidation, InvalidationBus } from '../invalidation/bus.ts'
import type { SessionEndReason } from '../realtime/events.ts'
import type { RealtimeEvents } from '../realtime/event-feed.ts'
import type { RequestContext } from '../request-context.ts'
import { createRandomToken, hashToken } from '../secrets.ts'
import type { RefreshTokens } from '../tokens/refresh-tokens.ts'
import { isServiceUnavailable } from '../undo-after-failure.ts'
import type { Change } from '../unit-of-work.ts'
import { createSessionCache, type ActiveSession } from './session-cache.ts'
import { describeExpiry, describeRefresh } from './session-events.ts'
import { hasSessionTimedOut } from './session-lifetime.ts'
import type {
  EndedSessionNotice,
  RevokedSessionStore,
  SessionLimit,
  SessionRecord,
  SessionStore,
  SessionTransport,
} from './store.ts'

export type { ActiveSession } from './session-cache.ts'

export interface SessionSettings {
  idleTimeoutSeconds: number
  absoluteTimeoutSeconds: number
  cacheTtlSeconds: number
  /** Live sessions per user by role; the strictest limit among a user's roles applies. */
  limits: Readonly<Record<string, SessionLimit>>
}

export interface StartedSession {
  session: SessionRecord
  /** Cookie transport: the secret to put in the cookie. */
  sessionToken: string | null
  /** Token transport: the first refresh token. */
  refreshToken: string | null
  /** Sessions the limit ended to make room for this one (marked, not yet recorded as ended). */
  endedSessions: SessionRecord[]
}

/** How a session's user proved who they are, and when (RFC 8176 method references). */
export interface SessionAuthentication {
  authenticatedAt: Date
  amr: readonly string[]
}

export interface Sessions {
  /**
   * Starts a session under the user's current session epoch; authenticated now by password
   * unless `authentication` says otherwise.
   */
  startSession(input: {
    user: UserRecord
    transport: SessionTransport
    ip: string
    userAgent: string
    authentication?: SessionAuthentication
    /** The linked device that signs in (a device sign-in): unlinking it ends the session. */
    deviceId?: string
  }): Promise<StartedSession>
  /**
   * Records a re-authentication in the session (its id stays); copies are dropped here and on
   * other nodes. False when the session is gone.
   */
  recordReauthentication(session: SessionRecord, authentication: SessionAuthentication): Promise<boolean>
  /** Deletes a session whose sign-in failed after it was started (its token was never handed out). */
  discardSession(session: SessionRecord): Promise<void>
  /**
   * Why the session of this id, no longer live, ended, when its holder is to be told (the
   * session limit ended it); null otherwise.
   */
  findEndedNotice(sessionId: string): Promise<EndedSessionNotice | null>
  /** The same for the session of a cookie token. */
  findEndedNoticeOfToken(sessionToken: string): Promise<EndedSessionNotice | null>
  /** The live session of a cookie token, or null. */
  resolveSessionToken(sessionToken: string): Promise<ActiveSession | null>
  /**
   * The live session with this id (from an access token's `sid`), or null. Either transport: a
   * cookie session hands out access tokens too (`SignInOperations.issueSessionAccessToken`).
   */
  resolveSessionId(sessionId: string): Promise<ActiveSession | null>
  /**
   * Rotates a refresh token (a retry within the grace window gets the same successor); reuse of
   * a replaced token ends the session. Throws `invalid_grant`.
   */
  rotateRefreshToken(
    refreshToken: string,
    context: RequestContext,
  ): Promise<{ active: ActiveSession; refreshToken: string }>
  /** The user's sessions that are alive now, newest first. */
  listLiveSessions(userId: string): Promise<SessionRecord[]>
  /** The live session of a refresh token that is its family's current one, or null. */
  findSessionOfRefreshToken(refreshToken: string): Promise<ActiveSession | null>
  /**
   * Inside a change: ends these sessions (by id, in the durable store); after the commit their
   * copies are dropped, other nodes told, and their records deleted.
   */
  endSessionsIn(change: Change, sessions: readonly SessionRecord[], reason: SessionEndReason): Promise<void>
  /**
   * Inside a change: ends every session of the user, present and concurrent (the user's session
   * epoch moves on); the updated user, or null when there is none.
   */
  endAllSessionsIn(change: Change, userId: string, reason: SessionEndReason): Promise<UserRecord | null>
  /** After a change to the user in a unit of work: drops copies here and tells other nodes. */
  announceUserChanged(userId: string): Promise<void>
  /** Drops cached copies of the user's sessions (a message from another node). */
  forgetUser(userId: string): void
  /** Drops the cached copy of one session (a message from another node). */
  forgetSession(sessionId: string): void
  /** Drops every cached copy (the invalidation bus may have lost messages). */
  forgetAllSessions(): void
  /** Deletes timed-out sessions and revocation records no longer needed; returns how many sessions. */
  deleteExpiredSessions(): Promise<number>
  /** Sessions neither idle nor past their absolute timeout now (for the metrics gauge). */
  countActiveSessions(): Promise<number>
}

const sessionTokenBytes = 32

interface Owner {
  user: UserRecord | null
  isRevoked: boolean
}

export function createSessions(deps: {
  sessionStore: SessionStore
  accountStore: AccountStore
  revokedSessionStore: RevokedSessionStore
  refreshTokens: RefreshTokens
  clock: Clock
  settings: SessionSettings
  audit: Audit
  /** Tells other nodes what changed; without it, their copies expire after `cacheTtlSeconds`. */
  invalidationBus?: InvalidationBus
  /** Tells stream clients (game servers) which sessions ended and why. */
  events?: RealtimeEvents
}): Sessions {
  const { sessionStore, accountStore, revokedSessionStore, refreshTokens, clock, settings, audit } = deps
  const bus = deps.invalidationBus ?? null
  const events = deps.events ?? null
  const idleMs = settings.idleTimeoutSeconds * 1000
  // Writing lastSeenAt on every request would make each read a write; a small slack is enough
  // for a sliding timeout (the session may end up to this much earlier than exact, never later).
  const touchIntervalMs = Math.min(60_000, idleMs * 0.05)
  const hasTimedOut = (session: SessionRecord, nowMs: number) =>
    hasSessionTimedOut(session, settings.idleTimeoutSeconds, nowMs)
  const cache = createSessionCache({
    cacheTtlSeconds: settings.cacheTtlSeconds,
    isTrustworthy: () => bus === null || bus.isConnected(),
    hasTimedOut,
  })

  async function announce(message: Invalidation): Promise<void> {
    if (bus !== null) await bus.publish(message)
  }

  async function announceEnds(
    ended: ReadonlyArray<{ id: string; userId: string }>,
    reason: SessionEndReason,
  ): Promise<void> {
    if (events === null) return
    for (const session of ended)
      await events.publish({ type: 'session_ended', userId: session.userId, sessionId: session.id, reason })
  }

  /** The strictest limit among the roles (the fewest sessions; refusing before ending at a tie). */
  function limitFor(roles: readonly string[]): SessionLimit | null {
    let strictest: SessionLimit | null = null
    for (const role of roles) {
      const limit = settings.limits[role]
      if (!limit) continue
      const isStricter =
        strictest === null ||
        limit.maxSessions < strictest.maxSessions ||
        (limit.maxSessions === strictest.maxSessions && limit.onFull === 'refuse')
      if (isStricter) strictest = limit
    }
    return strictest
  }

  /**
   * Deletes the user's stored sessions that are over for the durable store or by their
   * timeouts, and so should hold no place under the limit; true when any went. A refusal is
   * retried once after it: a session whose deletion failed (a tidy-up after a revocation) or that
   * timed out without being swept must not keep a user out.
   */
  async function releaseDeadPlaces(user: UserRecord): Promise<boolean> {
    const nowMs = clock.now().getTime()
    const stored = await sessionStore.listUserSessions(user.id)
    const revoked = new Set(await revokedSessionStore.findRevokedSessions(stored.map((session) => session.id)))
    const dead = stored.filter(
      (session) =>
        session.endedNotice === undefined &&
        (session.userEpoch !== user.sessionEpoch || revoked.has(session.id) || hasTimedOut(session, nowMs)),
    )
    for (const session of dead) await sessionStore.deleteSession(session.id)
    return dead.length > 0
  }
  /** What the durable store says about a session's owner and whether the session was revoked. */
  async function readOwner(session: SessionRecord): Promise<Owner> {
    const [user, revoked] = await Promise.all([
      accountStore.findUserById(session.userId),
      revokedSessionStore.findRevokedSessions([session.id]),
    ])
    return { user, isRevoked: revoked.length > 0 }
  }

  function isOwnedLive(session: SessionRecord, owner: Owner): owner is Owner & { user: UserRecord } {
    const { user } = owner
    return user !== null && user.disabledAt === null && user.sessionEpoch === session.userEpoch && !owner.isRevoked
  }

  /** The session with its user when both say it is alive (`known` when already read), or null. */
  async function load(
    session: SessionRecord | null,
    nowMs: number,
    mark: number,
    known: Owner | null = null,
  ): Promise<ActiveSession | null> {
    if (!session) return null
    // Kept only to tell its holder why it ended; it is over, and stays until it expires.
    if (session.endedNotice !== undefined) return null
    const owner = known ?? (await readOwner(session))
    if (!isOwnedLive(session, owner)) {
      // Ended in the durable store; the record left behind (a tidy-up that failed) goes now.
      await sessionStore.deleteSession(session.id)
      await announce({ kind: 'session', sessionId: session.id })
      return null
    }
    const active = { session, user: owner.user }
    cache.remember(active, nowMs, mark)
    return active
  }

  /** True when a cached session can be used as is: alive, and not yet due for a touch. */
  function isUsableWithoutWrite(active: ActiveSession, nowMs: number): boolean {
    const sinceLastSeenMs = nowMs - active.session.lastSeenAt.getTime()
    return sinceLastSeenMs < touchIntervalMs && nowMs < active.session.absoluteExpiresAt.getTime()
  }

  /** Applies expiry and the sliding touch to a session found by any key. */
  async function keepAlive(active: ActiveSession | null, now: Date): Promise<ActiveSession | null> {
    if (!active) return null
    const nowMs = now.getTime()
    const { session } = active
    if (hasTimedOut(session, nowMs)) {
      cache.forgetSession(session.id)
      // The session is over whatever happens next; only the one request that saw it records it.
      if (await sessionStore.deleteSession(session.id)) await audit.record(describeExpiry(session, nowMs))
      await announce({ kind: 'session', sessionId: session.id })
      return null
    }
    if (nowMs - session.lastSeenAt.getTime() < touchIntervalMs) return active
    await sessionStore.touchSession(session.id, now)
    const touched = { session: { ...session, lastSeenAt: now }, user: active.user }
    cache.update(touched)
    return touched
  }

  async function readSessionId(sessionId: string, now: Date): Promise<ActiveSession | null> {
    let active = cache.findById(sessionId, now.getTime())
    if (!active) {
      const mark = cache.readMark()
      const session = await sessionStore.findSessionById(sessionId)
      active = await load(session, now.getTime(), mark)
    }
    return keepAlive(active, now)
  }

  /**
   * Reads the owner of a refresh token before the rotation, which needs it next. Sessions may
   * live in another store than users (Redis beside PostgreSQL): were the rotation to succeed and
   * the owner read to fail, the client would not get its new token, and its retry after the
   * outage, past the grace window, would be taken for reuse and end an honest session. Reading
   * first makes an outage of the durable store change nothing; the read serves the rotation.
   */
  async function readOwnerOfRefreshToken(
    refreshToken: string,
  ): Promise<{ session: SessionRecord; owner: Owner } | null> {
    const member = await refreshTokens.findRefreshToken(refreshToken)
    const session = member ? await sessionStore.findSessionById(member.sessionId) : null
    return session ? { session, owner: await readOwner(session) } : null
  }

  function keepUntilOf(sessions: readonly SessionRecord[]): Date {
    const latest = Math.max(...sessions.map((session) => session.absoluteExpiresAt.getTime()))
    return new Date(latest)
  }

  return {
    async startSession({ user, transport, ip, userAgent, authentication, deviceId }) {
      const now = clock.now()
      const sessionToken = transport === 'cookie' ? createRandomToken(sessionTokenBytes) : null
      const session: SessionRecord = {
        id: createRandomToken(16),
        tokenHash: sessionToken === null ? null : hashToken(sessionToken),
        userId: user.id,
        userEpoch: user.sessionEpoch,
        transport,
        createdAt: now,
        lastSeenAt: now,
        absoluteExpiresAt: new Date(now.getTime() + settings.absoluteTimeoutSeconds * 1000),
        ip,
        userAgent,
        authenticatedAt: authentication?.authenticatedAt ?? now,
        amr: [...(authentication?.amr ?? ['pwd'])],
        ...(deviceId === undefined ? {} : { deviceId }),
      }
      const limit = limitFor(user.roles)
      let endedIds: string[] = []
      if (limit === null) {
        await sessionStore.insertSession(session)
      } else {
        let insertion = await sessionStore.insertLimitedSession(session, limit, now)
        if (!insertion.admitted && (await releaseDeadPlaces(user))) {
          insertion = await sessionStore.insertLimitedSession(session, limit, now)
        }
        if (!insertion.admitted) {
          throw new TesseraError(
            'session_limit_reached',
            'This account has as many sessions as it may: sign out of another device first.',
            { details: { max_sessions: limit.maxSessions } },
          )
        }
        endedIds = insertion.endedSessionIds
      }
      const endedSessions = (await Promise.all(endedIds.map((id) => sessionStore.findSessionById(id)))).filter(
        (found): found is SessionRecord => found !== null,
      )
      let refreshToken: string | null = null
      try {
        refreshToken = transport === 'token' ? await refreshTokens.startFamily(session.id) : null
      } catch (error) {
        // An outage answers the same either way: asking the store again would only add its timeout.
        if (isServiceUnavailable(error)) throw error
        // A kick, disable or password change of the user, committed meanwhile, deleted the new
        // session before its family began: it is over already, and the sign-in has to start again.
        if ((await sessionStore.findSessionById(session.id)) === null) {
          throw new TesseraError(
            'service_unavailable',
            'The session ended while it was being started; sign in again.',
            { cause: error },
          )
        }
        throw error
      }
      return { session, sessionToken, refreshToken, endedSessions }
    },

    async recordReauthentication(session, { authenticatedAt, amr }) {
      const isRecorded = await sessionStore.recordSessionAuthentication(session.id, authenticatedAt, amr)
      cache.forgetSession(session.id)
      await announce({ kind: 'session', sessionId: session.id })
      return isRecorded
    },

    async discardSession(session) {
      cache.forgetSession(session.id)
      await sessionStore.deleteSession(session.id)
    },

    async findEndedNotice(sessionId) {
      return (await sessionStore.findSessionById(sessionId))?.endedNotice ?? null
    },

    async findEndedNoticeOfToken(sessionToken) {
      const session = await sessionStore.findSessionByTokenHash(hashToken(sessionToken))
      return session?.transport === 'cookie' ? (session.endedNotice ?? null) : null
    },

    async resolveSessionToken(sessionToken) {
      const now = clock.now()
      const tokenHash = hashToken(sessionToken)
      let active = cache.findByTokenHash(tokenHash, now.getTime())
      // The per-request path: a cached, live session costs no store round-trip and no await.
      if (active && isUsableWithoutWrite(active, now.getTime())) return active
      if (!active) {
        const mark = cache.readMark()
        const session = await sessionStore.findSessionByTokenHash(tokenHash)
        active = await load(session?.transport === 'cookie' ? session : null, now.getTime(), mark)
      }
      return keepAlive(active, now)
    },

    async resolveSessionId(sessionId) {
      const now = clock.now()
      const active = cache.findById(sessionId, now.getTime())
      // The per-request path: a cached, live session costs no store round-trip and no await.
      if (active && isUsableWithoutWrite(active, now.getTime())) return active
      return readSessionId(sessionId, now)
    },

    async rotateRefreshToken(refreshToken, context) {
      // Made only when refused: an Error captures its stack, a cost every refresh would pay.
      const invalidGrant = () => new TesseraError('invalid_grant', 'The refresh token is invalid or expired.')
      // Taken before the owner is read: a disable or sign-out everywhere committed between that
      // read and the rotation must keep the copy read before it out of the cache.
      const mark = cache.readMark()
      const found = await readOwnerOfRefreshToken(refreshToken)
      if (found?.session.endedNotice !== undefined) {
        await audit.record(describeRefresh('missing', null, context))
        throw new TesseraError(
          'invalid_grant',
          'The session was ended by a sign-in on another device; sign in again.',
          {
            details: { reason: found.session.endedNotice },
          },
        )
      }
      if (found && !isOwnedLive(found.session, found.owner)) {
        // Ended in the durable store: nothing to rotate, whatever the hot store still holds.
        await load(found.session, clock.now().getTime(), cache.readMark(), found.owner)
        await audit.record(describeRefresh('missing', null, context))
        throw invalidGrant()
      }
      const now = clock.now()
      const rotation = await refreshTokens.rotateRefreshToken(refreshToken)
      if (rotation.outcome === 'missing') {
        await audit.record(describeRefresh('missing', null, context))
        throw invalidGrant()
      }
      const { session } = rotation
      // The owner read before may be cached only if nothing but this rotation's own drop came since.
      const isOwnerCurrent = cache.readMark() === mark
      cache.forgetSession(session.id)
      const ownerMark = isOwnerCurrent ? cache.readMark() : mark
      if (rotation.outcome === 'reused') {
        // The store has already ended the family: two parties hold it, and neither keeps it.
        await announce({ kind: 'session', sessionId: session.id })
        await announceEnds([session], 'refresh_reuse')
        await audit.record(describeRefresh('reused', session, context))
        throw invalidGrant()
      }
      if (hasTimedOut(session, now.getTime())) {
        await sessionStore.deleteSession(session.id)
        await audit.record(describeRefresh('expired', session, context))
        await announce({ kind: 'session', sessionId: session.id })
        throw invalidGrant()
      }
      const owner = found?.session.id === session.id ? found.owner : null
      const active = await load(
        { ...session, lastSeenAt: now },
        now.getTime(),
        owner === null ? cache.readMark() : ownerMark,
        owner,
      )
      if (!active) throw invalidGrant()
      await audit.record(describeRefresh(rotation.outcome, session, context))
      return { active, refreshToken: rotation.refreshToken }
    },

    async listLiveSessions(userId) {
      const nowMs = clock.now().getTime()
      const [stored, user] = await Promise.all([
        sessionStore.listUserSessions(userId),
        accountStore.findUserById(userId),
      ])
      if (!user || user.disabledAt !== null) return []
      const current = stored.filter(
        (session) =>
          session.endedNotice === undefined && session.userEpoch === user.sessionEpoch && !hasTimedOut(session, nowMs),
      )
      const revoked = new Set(await revokedSessionStore.findRevokedSessions(current.map((session) => session.id)))
      return current.filter((session) => !revoked.has(session.id))
    },

    async findSessionOfRefreshToken(refreshToken) {
      const member = await refreshTokens.findRefreshToken(refreshToken)
      if (!member || member.rotatedAt !== null) return null
      return readSessionId(member.sessionId, clock.now())
    },

    async endSessionsIn(change, sessions, reason) {
      if (sessions.length === 0) return
      await change.stores.revokedSessions.insertRevokedSessions(
        sessions.map((session) => session.id),
        keepUntilOf(sessions),
      )
      change.afterCommit(async () => {
        for (const session of sessions) cache.forgetSession(session.id)
        for (const session of sessions) await announce({ kind: 'session', sessionId: session.id })
        await announceEnds(sessions, reason)
        // A session the limit ended keeps its marked record, to tell its holder why, until it expires.
        for (const session of sessions) {
          if (reason !== 'limit') await sessionStore.deleteUserSession(session.userId, session.id)
        }
      })
    },

    async endAllSessionsIn(change, userId, reason) {
      const user = await change.stores.accounts.advanceSessionEpoch(userId, clock.now())
      if (!user) return null
      change.afterCommit(async () => {
        cache.forgetUser(userId)
        await announce({ kind: 'user', userId })
        const ended = await sessionStore.deleteUserSessions(userId, null)
        await announceEnds(
          ended.map((id) => ({ id, userId })),
          reason,
        )
      })
      return user
    },

    async announceUserChanged(userId) {
      cache.forgetUser(userId)
      await announce({ kind: 'user', userId })
    },

    forgetUser: (userId) => cache.forgetUser(userId),
    forgetSession: (sessionId) => cache.forgetSession(sessionId),
    forgetAllSessions: () => cache.forgetAll(),

    async deleteExpiredSessions() {
      const now = clock.now()
      const deleted = await sessionStore.deleteExpiredSessions(new Date(now.getTime() - idleMs), now)
      await revokedSessionStore.deleteExpiredRevokedSessions(now)
      return deleted
    },

    countActiveSessions() {
      const now = clock.now()
      return sessionStore.countActiveSessions(new Date(now.getTime() - idleMs), now)
    },
  }
}

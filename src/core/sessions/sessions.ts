/**
 * Server-side sessions. A session has a public id (listed, put in the `sid` claim) and, in cookie
 * transport, a separate 256-bit secret token of which the store keeps only the SHA-256; in token
 * transport it is the family of its refresh tokens (see tokens/refresh-tokens.ts). Sessions end on logout,
 * revocation, after `idleTimeoutSeconds` without use (sliding) and at `absoluteTimeoutSeconds`
 * after login, whatever the activity.
 *
 * Each node keeps a short-lived copy of the sessions it has seen so the per-request check costs
 * no store round-trip; changes made through this module drop the copy at once, and changes made
 * elsewhere are seen after at most `cacheTtlSeconds`, or at once when the nodes share an
 * invalidation bus (and not at all from memory while that bus is disconnected).
 */
import type { AccountStore, UserRecord } from '../accounts/store.ts'
import type { Audit } from '../audit/audit.ts'
import type { RequestContext } from '../request-context.ts'
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import type { Invalidation, InvalidationBus } from '../invalidation/bus.ts'
import { createRandomToken, hashToken } from '../secrets.ts'
import { describeExpiry, describeRefresh } from './session-events.ts'
import type { RefreshTokens } from '../tokens/refresh-tokens.ts'
import { ignoreTokenEvent, type RecordTokenEvent } from '../tokens/token-events.ts'
import type { SessionRecord, SessionStore, SessionTransport } from './store.ts'

export interface SessionSettings {
  idleTimeoutSeconds: number
  absoluteTimeoutSeconds: number
  cacheTtlSeconds: number
}

export interface ActiveSession {
  session: SessionRecord
  user: UserRecord
}

export interface StartedSession {
  session: SessionRecord
  /** Cookie transport: the secret to put in the cookie. */
  sessionToken: string | null
  /** Token transport: the first refresh token. */
  refreshToken: string | null
}

export interface Sessions {
  startSession(input: {
    user: UserRecord
    transport: SessionTransport
    ip: string
    userAgent: string
  }): Promise<StartedSession>
  /** The live session of a cookie token, or null. */
  resolveSessionToken(sessionToken: string): Promise<ActiveSession | null>
  /**
   * The live session with this id (from an access token's `sid`), or null. Either transport: a
   * cookie session hands out access tokens too (`Authentication.issueSessionAccessToken`).
   */
  resolveSessionId(sessionId: string): Promise<ActiveSession | null>
  /**
   * Rotates a refresh token (a retry within the grace window gets the same successor); reuse of
   * a replaced token ends the session. Throws `invalid_grant`.
   */
  rotateRefreshToken(refreshToken: string, context: RequestContext): Promise<{ active: ActiveSession; refreshToken: string }>
  /** Ends one session (and its refresh-token family) whoever owns it; the ended session or null. */
  endSession(sessionId: string): Promise<SessionRecord | null>
  listUserSessions(userId: string): Promise<SessionRecord[]>
  /** Ends one session of the user; false when the user has no such session. */
  endUserSession(userId: string, sessionId: string): Promise<boolean>
  /** Ends every session of the user but `exceptId`; returns how many ended. */
  endUserSessions(userId: string, exceptId: string | null): Promise<number>
  /** Drops cached copies of the user's sessions (after a role or account change). */
  forgetUser(userId: string): void
  /** Drops the cached copy of one session (another node changed it). */
  forgetSession(sessionId: string): void
  /** Drops every cached copy (the invalidation bus may have lost messages). */
  forgetAllSessions(): void
  deleteExpiredSessions(): Promise<number>
}

interface CacheEntry {
  active: ActiveSession
  loadedAtMs: number
}

const maxCachedSessions = 50_000
const sessionTokenBytes = 32

export function createSessions(deps: {
  sessionStore: SessionStore
  accountStore: AccountStore
  refreshTokens: RefreshTokens
  clock: Clock
  settings: SessionSettings
  audit: Audit
  recordTokenEvent?: RecordTokenEvent
  /** Tells other nodes what changed; without it, their copies expire after `cacheTtlSeconds`. */
  invalidationBus?: InvalidationBus
}): Sessions {
  const { sessionStore, accountStore, refreshTokens, clock, settings, audit } = deps
  const recordTokenEvent = deps.recordTokenEvent ?? ignoreTokenEvent
  const bus = deps.invalidationBus ?? null
  const idleMs = settings.idleTimeoutSeconds * 1000
  const cacheTtlMs = settings.cacheTtlSeconds * 1000
  // Writing lastSeenAt on every request would make each read a write; a small slack is enough
  // for a sliding timeout (the session may end up to this much earlier than exact, never later).
  const touchIntervalMs = Math.min(60_000, idleMs * 0.05)
  const cacheById = new Map<string, CacheEntry>()
  const idByTokenHash = new Map<string, string>()
  // Counts forgets. A copy read from the store while one happened may predate the change that
  // caused it (another node's logout landing mid-read), so it is used once but not kept.
  let forgetCount = 0

  function isExpired(session: SessionRecord, nowMs: number): boolean {
    return nowMs >= session.absoluteExpiresAt.getTime() || nowMs - session.lastSeenAt.getTime() >= idleMs
  }

  /** Copies are trusted only while no message from another node can have been missed. */
  function isCacheUsable(): boolean {
    return cacheTtlMs > 0 && (bus === null || bus.isConnected())
  }

  async function announce(message: Invalidation): Promise<void> {
    if (bus !== null) await bus.publish(message)
  }

  function remember(active: ActiveSession, nowMs: number): void {
    if (!isCacheUsable()) return
    if (cacheById.size >= maxCachedSessions) {
      const oldest = cacheById.keys().next().value
      if (oldest !== undefined) forget(oldest)
    }
    cacheById.set(active.session.id, { active, loadedAtMs: nowMs })
    if (active.session.tokenHash) idByTokenHash.set(active.session.tokenHash, active.session.id)
  }

  function forget(sessionId: string): void {
    const entry = cacheById.get(sessionId)
    cacheById.delete(sessionId)
    if (entry?.active.session.tokenHash) idByTokenHash.delete(entry.active.session.tokenHash)
  }

  /** Drops a copy because the session changed (not merely because the copy aged). */
  function forgetChanged(sessionId: string): void {
    forgetCount += 1
    forget(sessionId)
  }

  function cached(sessionId: string | undefined, nowMs: number): ActiveSession | null {
    if (sessionId === undefined || !isCacheUsable()) return null
    const entry = cacheById.get(sessionId)
    if (!entry) return null
    // An expired-looking copy may predate another node's touch: the store decides.
    if (nowMs - entry.loadedAtMs >= cacheTtlMs || isExpired(entry.active.session, nowMs)) {
      forget(sessionId)
      return null
    }
    return entry.active
  }

  /**
   * Reads the user behind a refresh token before the rotation, which needs it next. Sessions may
   * live in another store than users (Redis beside PostgreSQL): were the rotation to succeed and
   * the user read to fail, the client would not get its new token, and its retry after the
   * outage, past the grace window, would be taken for reuse and end an honest session. Reading
   * first makes an outage of the user store change nothing; the user read serves the rotation.
   */
  async function readOwnerOfRefreshToken(refreshToken: string): Promise<UserRecord | null> {
    const member = await refreshTokens.findRefreshToken(refreshToken)
    const session = member ? await sessionStore.findSessionById(member.sessionId) : null
    return session ? accountStore.findUserById(session.userId) : null
  }

  /** The session with its user (`knownUser` when already read, else from the store), or null. */
  async function load(
    session: SessionRecord | null,
    nowMs: number,
    forgetCountAtRead = forgetCount,
    knownUser: UserRecord | null = null,
  ): Promise<ActiveSession | null> {
    if (!session) return null
    const user = knownUser?.id === session.userId ? knownUser : await accountStore.findUserById(session.userId)
    if (!user || user.disabledAt !== null) {
      await sessionStore.deleteSession(session.id)
      await announce({ kind: 'session', sessionId: session.id })
      return null
    }
    const active = { session, user }
    if (forgetCount === forgetCountAtRead) remember(active, nowMs)
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
    if (isExpired(session, nowMs)) {
      forget(session.id)
      await audit.recordChange(
        () => sessionStore.deleteSession(session.id),
        (deleted) => (deleted ? [describeExpiry(session, nowMs)] : []),
      )
      forgetChanged(session.id)
      await announce({ kind: 'session', sessionId: session.id })
      return null
    }
    if (nowMs - session.lastSeenAt.getTime() < touchIntervalMs) return active
    await sessionStore.touchSession(session.id, now)
    const touched = { session: { ...session, lastSeenAt: now }, user: active.user }
    const entry = cacheById.get(session.id)
    if (entry) entry.active = touched
    return touched
  }

  async function resolveSessionId(sessionId: string): Promise<ActiveSession | null> {
    const now = clock.now()
    let active = cached(sessionId, now.getTime())
    if (!active) {
      const readAt = forgetCount
      const session = await sessionStore.findSessionById(sessionId)
      active = await load(session, now.getTime(), readAt)
    }
    return keepAlive(active, now)
  }

  return {
    async startSession({ user, transport, ip, userAgent }) {
      const now = clock.now()
      const sessionToken = transport === 'cookie' ? createRandomToken(sessionTokenBytes) : null
      const session: SessionRecord = {
        id: createRandomToken(16),
        tokenHash: sessionToken === null ? null : hashToken(sessionToken),
        userId: user.id,
        transport,
        createdAt: now,
        lastSeenAt: now,
        absoluteExpiresAt: new Date(now.getTime() + settings.absoluteTimeoutSeconds * 1000),
        ip,
        userAgent,
      }
      await sessionStore.insertSession(session)
      const refreshToken = transport === 'token' ? await refreshTokens.startFamily(session.id) : null
      return { session, sessionToken, refreshToken }
    },

    async resolveSessionToken(sessionToken) {
      const now = clock.now()
      const tokenHash = hashToken(sessionToken)
      let active = cached(idByTokenHash.get(tokenHash), now.getTime())
      // The per-request path: a cached, live session costs no store round-trip and no await.
      if (active && isUsableWithoutWrite(active, now.getTime())) return active
      if (!active) {
        const readAt = forgetCount
        const session = await sessionStore.findSessionByTokenHash(tokenHash)
        active = await load(session?.transport === 'cookie' ? session : null, now.getTime(), readAt)
      }
      return keepAlive(active, now)
    },

    async resolveSessionId(sessionId) {
      const now = clock.now()
      const active = cached(sessionId, now.getTime())
      // The per-request path: a cached, live session costs no store round-trip and no await.
      if (active && isUsableWithoutWrite(active, now.getTime())) return active
      return resolveSessionId(sessionId)
    },

    async rotateRefreshToken(refreshToken, context) {
      const owner = await readOwnerOfRefreshToken(refreshToken)
      const now = clock.now()
      const rotation = await refreshTokens.rotateRefreshToken(refreshToken)
      const invalidGrant = new TesseraError('invalid_grant', 'The refresh token is invalid or expired.')
      if (rotation.outcome === 'missing') {
        await audit.record(describeRefresh('missing', null, context))
        throw invalidGrant
      }
      const { session } = rotation
      forgetChanged(session.id)
      if (rotation.outcome === 'reused') {
        // The store has already ended the family: two parties hold it, and neither keeps it.
        await announce({ kind: 'session', sessionId: session.id })
        await audit.record(describeRefresh('reused', session, context))
        recordTokenEvent({ type: 'refresh_token_reused', at: now, userId: session.userId, sessionId: session.id })
        throw invalidGrant
      }
      if (isExpired(session, now.getTime())) {
        await audit.recordChange(
          () => sessionStore.deleteSession(session.id),
          () => describeRefresh('expired', session, context),
        )
        await announce({ kind: 'session', sessionId: session.id })
        throw invalidGrant
      }
      const active = await load({ ...session, lastSeenAt: now }, now.getTime(), forgetCount, owner)
      if (!active) throw invalidGrant
      await audit.record(describeRefresh(rotation.outcome, session, context))
      return { active, refreshToken: rotation.refreshToken }
    },

    async endSession(sessionId) {
      forget(sessionId)
      const session = await sessionStore.findSessionById(sessionId)
      if (!session || !(await sessionStore.deleteSession(sessionId))) return null
      forgetChanged(sessionId)
      await announce({ kind: 'session', sessionId })
      return session
    },

    listUserSessions: (userId) => sessionStore.listUserSessions(userId),

    async endUserSession(userId, sessionId) {
      forget(sessionId)
      const isEnded = await sessionStore.deleteUserSession(userId, sessionId)
      forgetChanged(sessionId)
      if (isEnded) await announce({ kind: 'session', sessionId })
      return isEnded
    },

    async endUserSessions(userId, exceptId) {
      const ended = await sessionStore.deleteUserSessions(userId, exceptId)
      for (const id of ended) forgetChanged(id)
      if (ended.length > 0) await announce({ kind: 'user', userId })
      return ended.length
    },

    forgetUser(userId) {
      forgetCount += 1
      for (const [id, entry] of cacheById) {
        if (entry.active.user.id === userId) forget(id)
      }
    },

    forgetSession: (sessionId) => forgetChanged(sessionId),

    forgetAllSessions() {
      forgetCount += 1
      cacheById.clear()
      idByTokenHash.clear()
    },

    deleteExpiredSessions() {
      const now = clock.now()
      return sessionStore.deleteExpiredSessions(new Date(now.getTime() - idleMs), now)
    },
  }
}

export type SessionTransport = 'cookie' | 'token'

/**
 * Why a session record is kept after its end: its holder is told, on every request and refresh
 * with it, instead of a bare "invalid". Only a session ended by the per-user limit keeps one.
 */
export type EndedSessionNotice = 'signed_in_elsewhere'

/** What a user's sign-in does when the limit of live sessions is reached. */
export type SessionLimitPolicy = 'end_oldest' | 'refuse'

export interface SessionLimit {
  /** At most this many live sessions per user. */
  maxSessions: number
  onFull: SessionLimitPolicy
}

export type LimitedInsertion = { admitted: true; endedSessionIds: string[] } | { admitted: false }

export interface SessionRecord {
  /** Public handle (listed, used in `sid` and URLs); never a credential. */
  id: string
  /**
   * SHA-256 of the session token (cookie transport); null for token transport, whose refresh
   * tokens form a family in the RefreshTokenStore.
   */
  tokenHash: string | null
  userId: string
  /** The user's session epoch when the session started; the session ends when it moves on. */
  userEpoch: number
  transport: SessionTransport
  createdAt: Date
  lastSeenAt: Date
  absoluteExpiresAt: Date
  ip: string
  userAgent: string
  /** When the user last proved who they are in this session: its sign-in, or a later re-authentication. */
  authenticatedAt: Date
  /** How they did it: RFC 8176 authentication method references (`pwd`, `otp`, `hwk`, `mfa`…). */
  amr: string[]
  /** Set when the session was ended by the session limit and is kept to tell its holder why. */
  endedNotice?: EndedSessionNotice
  /** The linked device (its record id) that signed in, for a device sign-in: unlinking it ends the session. */
  deviceId?: string
}

export interface SessionStore {
  /** Inserts a new session; its id and token hashes are unique. */
  insertSession(session: SessionRecord): Promise<void>
  /**
   * Inserts a new session if the user holds fewer than `limit.maxSessions` sessions that are
   * neither ended nor past their absolute expiry at `now`; when they hold that many, either
   * refuses (nothing changes) or marks the oldest as ended (`endedNotice`) to make room. The
   * count and the insertion are one atomic step: parallel sign-ins never exceed the limit.
   * `endedSessionIds` names each session this call ended, once across all calls; it may name
   * the new session itself, when a parallel sign-in took its place before it was stored.
   */
  insertLimitedSession(session: SessionRecord, limit: SessionLimit, now: Date): Promise<LimitedInsertion>
  /** Returns the session with this public id, or null. */
  findSessionById(id: string): Promise<SessionRecord | null>
  /** Returns the session whose token hash is `tokenHash`, or null. */
  findSessionByTokenHash(tokenHash: string): Promise<SessionRecord | null>
  /** Moves `lastSeenAt` forward (never backward). */
  touchSession(id: string, lastSeenAt: Date): Promise<void>
  /**
   * Records a re-authentication: `authenticatedAt` and `amr` replace the session's own when
   * `authenticatedAt` is later; false when the session is gone.
   */
  recordSessionAuthentication(id: string, authenticatedAt: Date, amr: readonly string[]): Promise<boolean>
  /** The user's sessions, newest first. */
  listUserSessions(userId: string): Promise<SessionRecord[]>
  /** Deletes one session (and its refresh-token family); false when there was none. */
  deleteSession(id: string): Promise<boolean>
  /** Deletes the session only if it belongs to `userId`; false otherwise. */
  deleteUserSession(userId: string, id: string): Promise<boolean>
  /** Deletes every session of the user except `exceptId`; returns the deleted ids. */
  deleteUserSessions(userId: string, exceptId: string | null): Promise<string[]>
  /** Deletes sessions idle since before `idleCutoff` or past their absolute expiry at `now`. */
  deleteExpiredSessions(idleCutoff: Date, now: Date): Promise<number>
  /**
   * Sessions seen at or after `seenSince` and not past their absolute expiry at `now`, the most
   * recently seen first, at most `limit` (who is online).
   */
  listRecentSessions(seenSince: Date, now: Date, limit: number): Promise<SessionRecord[]>
  /** Counts sessions seen after `idleCutoff` and not past their absolute expiry at `now`. */
  countActiveSessions(idleCutoff: Date, now: Date): Promise<number>
}

/**
 * The durable record of sessions ended one by one. Sessions may live in a store without
 * transactions (Redis); writing the end here, in the transaction that audits it, makes it hold
 * even when deleting the session itself fails afterwards.
 */
export interface RevokedSessionStore {
  /** Records that these sessions ended; each record is kept until `keepUntil`. */
  insertRevokedSessions(sessionIds: readonly string[], keepUntil: Date): Promise<void>
  /** The ids among `sessionIds` that were revoked. */
  findRevokedSessions(sessionIds: readonly string[]): Promise<string[]>
  /** Deletes records kept until before `now`; returns how many. */
  deleteExpiredRevokedSessions(now: Date): Promise<number>
}

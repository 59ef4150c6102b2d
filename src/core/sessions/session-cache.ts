/**
 * This node's short-lived copies of the sessions it has seen, with their users, so the
 * per-request check costs no store round-trip. A copy is trusted for `cacheTtlSeconds` at most,
 * and only while the invalidation bus (when there is one) is connected: a node that may have
 * missed another node's message trusts no copy. Changes made on this node drop the copy at once.
 *
 * A copy read from the store while a change was being dropped may predate that change (another
 * node's logout landing mid-read): `readMark()` taken before the read lets `remember()` refuse
 * to keep it. It is then used once, for the request that read it, and not kept.
 */
import type { UserRecord } from '../accounts/store.ts'
import type { SessionRecord } from './store.ts'

export interface ActiveSession {
  session: SessionRecord
  user: UserRecord
}

export interface SessionCache {
  /** The mark to take before reading a session from the store. */
  readMark(): number
  /** The live copy of a session, or null (an aged or timed-out copy is dropped). */
  findById(sessionId: string, nowMs: number): ActiveSession | null
  /** The same, by the hash of a cookie token. */
  findByTokenHash(tokenHash: string, nowMs: number): ActiveSession | null
  /** Keeps a copy read from the store, unless something was dropped since `mark`. */
  remember(active: ActiveSession, nowMs: number, mark: number): void
  /** Replaces a kept copy's record (after a touch), keeping its age. */
  update(active: ActiveSession): void
  /** Drops a copy that is merely stale (no change is known). */
  dropCopy(sessionId: string): void
  /** Drops a copy because the session changed. */
  forgetSession(sessionId: string): void
  /** Drops the copies of a user's sessions (their user changed). */
  forgetUser(userId: string): void
  /** Drops every copy (the bus may have lost messages). */
  forgetAll(): void
}

interface CacheEntry {
  active: ActiveSession
  loadedAtMs: number
}

const maxCachedSessions = 50_000

export function createSessionCache(deps: {
  cacheTtlSeconds: number
  /** False while messages from other nodes could be missed. */
  isTrustworthy(): boolean
  hasTimedOut(session: SessionRecord, nowMs: number): boolean
}): SessionCache {
  const { isTrustworthy, hasTimedOut } = deps
  const cacheTtlMs = deps.cacheTtlSeconds * 1000
  const byId = new Map<string, CacheEntry>()
  const idByTokenHash = new Map<string, string>()
  let forgetCount = 0

  const isUsable = () => cacheTtlMs > 0 && isTrustworthy()

  function drop(sessionId: string): void {
    const entry = byId.get(sessionId)
    byId.delete(sessionId)
    if (entry?.active.session.tokenHash) idByTokenHash.delete(entry.active.session.tokenHash)
  }

  function findById(sessionId: string | undefined, nowMs: number): ActiveSession | null {
    if (sessionId === undefined || !isUsable()) return null
    const entry = byId.get(sessionId)
    if (!entry) return null
    // An expired-looking copy may predate another node's touch: the store decides.
    if (nowMs - entry.loadedAtMs >= cacheTtlMs || hasTimedOut(entry.active.session, nowMs)) {
      drop(sessionId)
      return null
    }
    return entry.active
  }

  return {
    readMark: () => forgetCount,
    findById,
    findByTokenHash: (tokenHash, nowMs) => findById(idByTokenHash.get(tokenHash), nowMs),

    remember(active, nowMs, mark) {
      if (mark !== forgetCount || !isUsable()) return
      if (byId.size >= maxCachedSessions) {
        const oldest = byId.keys().next().value
        if (oldest !== undefined) drop(oldest)
      }
      byId.set(active.session.id, { active, loadedAtMs: nowMs })
      if (active.session.tokenHash) idByTokenHash.set(active.session.tokenHash, active.session.id)
    },

    update(active) {
      const entry = byId.get(active.session.id)
      if (entry) entry.active = active
    },

    dropCopy: drop,

    forgetSession(sessionId) {
      forgetCount += 1
      drop(sessionId)
    },

    forgetUser(userId) {
      forgetCount += 1
      for (const [id, entry] of byId) {
        if (entry.active.user.id === userId) drop(id)
      }
    },

    forgetAll() {
      forgetCount += 1
      byId.clear()
      idByTokenHash.clear()
    },
  }
}

/**
 * Sessions in Redis. Key layout (P = the key prefix; the part in braces is the hash tag, so in a
 * Cluster each of these keys sits in the slot of what it is about):
 *
 *   P:session:{id}              hash: the session; expires by TTL at its absolute expiry
 *   P:session-token:{hash}      string: session id of a cookie token hash
 *   P:refresh-family:{id}       hash: the session's refresh tokens (see refresh-tokens.ts)
 *   P:session-data:{id}         hash: the session's data (see session-data.ts)
 *   P:refresh-token:{hash}      string: session id of a refresh token hash of its family
 *   P:user-sessions:{userId}    sorted set: the user's session ids by creation
 *   P:session-places:{userId}   sorted set: the user's unended session ids by absolute expiry
 *                               (the places counted by the session limit, decided in one script)
 *   P:sessions-by-last-seen     sorted set: session id by lastSeenAt  (for deleteExpiredSessions)
 *   P:sessions-by-expiry        sorted set: session id by absoluteExpiresAt
 *
 * Every security-relevant change happens in one script on the session's own key, so it is
 * atomic on any topology; pointers and indexes are looked up first and tidied afterwards, and a
 * pointer is trusted only when the session it names agrees with it. A session therefore ends
 * the instant its hash is gone, whatever happens to the pointers.
 */
import type { SessionRecord, SessionStore } from '../../core/sessions/store.ts'
import type { RedisConnection } from './connection.ts'
import {
  deleteExpiredSessionScript,
  deletePointerScript,
  deleteSessionScript,
  indexUserSessionScript,
  insertSessionScript,
  markSessionEndedScript,
  recordAuthenticationScript,
  takeSessionPlaceScript,
  touchSessionScript,
} from './session-scripts.ts'

const sweepBatchSize = 500
const maxSweepRounds = 10_000

export function createSessionKeys(prefix: string) {
  return {
    session: (id: string) => `${prefix}:session:{${id}}`,
    sessionToken: (tokenHash: string) => `${prefix}:session-token:{${tokenHash}}`,
    refreshFamily: (id: string) => `${prefix}:refresh-family:{${id}}`,
    sessionData: (id: string) => `${prefix}:session-data:{${id}}`,
    refreshToken: (tokenHash: string) => `${prefix}:refresh-token:{${tokenHash}}`,
    userSessions: (userId: string) => `${prefix}:user-sessions:{${userId}}`,
    sessionPlaces: (userId: string) => `${prefix}:session-places:{${userId}}`,
    byLastSeen: `${prefix}:sessions-by-last-seen`,
    byExpiry: `${prefix}:sessions-by-expiry`,
  }
}

function toFields(session: SessionRecord): string[] {
  const fields: Array<[string, string | null]> = [
    ['id', session.id],
    ['tokenHash', session.tokenHash],
    ['userId', session.userId],
    ['userEpoch', String(session.userEpoch)],
    ['transport', session.transport],
    ['createdAt', String(session.createdAt.getTime())],
    ['lastSeenAt', String(session.lastSeenAt.getTime())],
    ['absoluteExpiresAt', String(session.absoluteExpiresAt.getTime())],
    ['ip', session.ip],
    ['userAgent', session.userAgent],
    ['authenticatedAt', String(session.authenticatedAt.getTime())],
    ['amr', session.amr.join(' ')],
    ['endedNotice', session.endedNotice ?? null],
    ['deviceId', session.deviceId ?? null],
  ]
  return fields.flatMap(([name, value]) => (value === null ? [] : [name, value]))
}

/** A session from HGETALL's flat [field, value, …] reply; null for an empty or foreign hash. */
export function toSession(reply: readonly unknown[]): SessionRecord | null {
  const fields = new Map<string, string>()
  for (let index = 0; index + 1 < reply.length; index += 2) fields.set(String(reply[index]), String(reply[index + 1]))
  const id = fields.get('id')
  const userId = fields.get('userId')
  if (id === undefined || userId === undefined) return null
  const instant = (name: string) => new Date(Number(fields.get(name)))
  return {
    id,
    tokenHash: fields.get('tokenHash') ?? null,
    userId,
    userEpoch: Number(fields.get('userEpoch') ?? 0),
    transport: fields.get('transport') === 'cookie' ? 'cookie' : 'token',
    createdAt: instant('createdAt'),
    lastSeenAt: instant('lastSeenAt'),
    absoluteExpiresAt: instant('absoluteExpiresAt'),
    ip: fields.get('ip') ?? '',
    userAgent: fields.get('userAgent') ?? '',
    // Sessions stored before authentication times were kept were authenticated by password at their start.
    authenticatedAt: fields.has('authenticatedAt') ? instant('authenticatedAt') : instant('createdAt'),
    amr: (fields.get('amr') ?? 'pwd').split(' '),
    ...(fields.get('endedNotice') === 'signed_in_elsewhere' ? { endedNotice: 'signed_in_elsewhere' as const } : {}),
    ...(fields.has('deviceId') ? { deviceId: String(fields.get('deviceId')) } : {}),
  }
}

/** Milliseconds from `from` to the session's absolute expiry; at least 1 s so Redis keeps it. */
export function remainingMs(session: SessionRecord, from: Date): number {
  return Math.max(1000, session.absoluteExpiresAt.getTime() - from.getTime())
}

export function createRedisSessionStore(redis: RedisConnection, keyPrefix: string): SessionStore {
  const keys = createSessionKeys(keyPrefix)

  async function readSession(id: string): Promise<SessionRecord | null> {
    return toSession(await redis.command<string[]>(keys.session(id), ['HGETALL', keys.session(id)]))
  }

  /** Sets a pointer unless another live session holds it; true when it is ours now. */
  async function claimPointer(
    pointerKey: string,
    sessionId: string,
    ttlMs: number,
    isHeldBy: (owner: SessionRecord) => boolean,
  ) {
    const set = await redis.command<string | null>(pointerKey, [
      'SET',
      pointerKey,
      sessionId,
      'PX',
      String(ttlMs),
      'NX',
    ])
    if (set !== null) return true
    const ownerId = await redis.command<string | null>(pointerKey, ['GET', pointerKey])
    const owner = ownerId === null ? null : await readSession(ownerId)
    if (owner && owner.id !== sessionId && isHeldBy(owner)) return false
    // The pointer outlived its session: take it over.
    await redis.command(pointerKey, ['SET', pointerKey, sessionId, 'PX', String(ttlMs)])
    return true
  }

  /** Removes what points at a session that no longer exists. */
  async function tidyAfterDelete(session: SessionRecord): Promise<void> {
    // Refresh-token pointers are left to their TTL: one whose family is gone answers "missing".
    await Promise.all([
      session.tokenHash === null
        ? null
        : redis.runScript(deletePointerScript, [keys.sessionToken(session.tokenHash)], [session.id]),
      redis.command(keys.userSessions(session.userId), ['ZREM', keys.userSessions(session.userId), session.id]),
      redis.command(keys.sessionPlaces(session.userId), ['ZREM', keys.sessionPlaces(session.userId), session.id]),
      redis.command(keys.byLastSeen, ['ZREM', keys.byLastSeen, session.id]),
      redis.command(keys.byExpiry, ['ZREM', keys.byExpiry, session.id]),
    ])
  }

  async function deleteOne(id: string, ownerId: string): Promise<boolean> {
    const deleted = toSession(
      await redis.runScript<string[]>(
        deleteSessionScript,
        [keys.session(id), keys.refreshFamily(id), keys.sessionData(id)],
        [ownerId],
      ),
    )
    if (!deleted) return false
    await tidyAfterDelete(deleted)
    return true
  }

  async function findByPointer(pointerKey: string): Promise<SessionRecord | null> {
    const id = await redis.command<string | null>(pointerKey, ['GET', pointerKey])
    return id === null ? null : readSession(id)
  }

  /** `hasPlace`: the session's place was taken already (insertLimitedSession's script). */
  async function insertSession(session: SessionRecord, hasPlace = false): Promise<void> {
    const ttlMs = remainingMs(session, session.lastSeenAt)
    const inserted = await redis.runScript<number>(
      insertSessionScript,
      [keys.session(session.id)],
      [String(ttlMs), ...toFields(session)],
    )
    if (inserted !== 1) throw new Error('a session with this id exists')
    const claims: Array<Promise<boolean>> = []
    if (session.tokenHash !== null) {
      const hash = session.tokenHash
      claims.push(claimPointer(keys.sessionToken(hash), session.id, ttlMs, (owner) => owner.tokenHash === hash))
    }
    if ((await Promise.all(claims)).includes(false)) {
      await deleteOne(session.id, '')
      throw new Error('another session holds this token hash')
    }
    await Promise.all([
      redis.runScript(
        indexUserSessionScript,
        [keys.userSessions(session.userId)],
        [String(session.createdAt.getTime()), session.id, String(ttlMs)],
      ),
      redis.command(keys.byLastSeen, ['ZADD', keys.byLastSeen, String(session.lastSeenAt.getTime()), session.id]),
      redis.command(keys.byExpiry, ['ZADD', keys.byExpiry, String(session.absoluteExpiresAt.getTime()), session.id]),
      // Every session holds a place, limited or not: a limit counts the sessions started before it
      // applied. A limited one took its place in the script, and a later sign-in may have taken it
      // away since: given again here, the session would live beside that one.
      session.endedNotice === undefined && !hasPlace
        ? redis.runScript(
            indexUserSessionScript,
            [keys.sessionPlaces(session.userId)],
            [String(session.absoluteExpiresAt.getTime()), session.id, String(ttlMs)],
          )
        : null,
    ])
  }

  return {
    insertSession: (session) => insertSession(session),

    async insertLimitedSession(session, limit, now) {
      const placesKey = keys.sessionPlaces(session.userId)
      const [admitted, ...ending] = await redis.runScript<Array<number | string>>(
        takeSessionPlaceScript,
        [placesKey],
        [
          String(now.getTime()),
          String(limit.maxSessions),
          limit.onFull,
          session.id,
          String(session.absoluteExpiresAt.getTime()),
          String(remainingMs(session, now)),
        ],
      )
      if (admitted !== 1) return { admitted: false }
      const endedSessionIds = ending.map(String)
      try {
        await insertSession(session, true)
      } catch (error) {
        await redis.command(placesKey, ['ZREM', placesKey, session.id]).catch(() => {
          // The place is taken until the session's expiry at worst; the sign-in fails either way.
        })
        throw error
      }
      // Each in its own slot, after the decision: the places were given up in the script, and
      // the core records the ends in the durable store too, so a failure here ends them anyway.
      const markEnded = (id: string) =>
        redis.runScript<number>(markSessionEndedScript, [keys.session(id)], ['signed_in_elsewhere'])
      const marked = await Promise.all(endedSessionIds.map(markEnded))
      // Another sign-in may have taken this session's place between the script and the insert
      // above, and found no session to mark: without this look the session would live beside the
      // later one, one more than the limit. It ends itself then, unless that sign-in marked it
      // after all; whichever call marks a session reports its end.
      const place = await redis.command<string | null>(placesKey, ['ZSCORE', placesKey, session.id])
      const isEndedItself = place === null && (await markEnded(session.id)) === 1
      return {
        admitted: true,
        endedSessionIds: [
          ...endedSessionIds.filter((_id, index) => marked[index] === 1),
          ...(isEndedItself ? [session.id] : []),
        ],
      }
    },

    findSessionById: (id) => readSession(id),

    async findSessionByTokenHash(tokenHash) {
      const session = await findByPointer(keys.sessionToken(tokenHash))
      return session?.tokenHash === tokenHash ? session : null
    },

    async touchSession(id, lastSeenAt) {
      const at = String(lastSeenAt.getTime())
      await Promise.all([
        redis.runScript(touchSessionScript, [keys.session(id)], [at]),
        redis.command(keys.byLastSeen, ['ZADD', keys.byLastSeen, 'XX', 'GT', at, id]),
      ])
    },

    async recordSessionAuthentication(id, authenticatedAt, amr) {
      const recorded = await redis.runScript<number>(
        recordAuthenticationScript,
        [keys.session(id)],
        [String(authenticatedAt.getTime()), amr.join(' ')],
      )
      return recorded === 1
    },

    async listUserSessions(userId) {
      const indexKey = keys.userSessions(userId)
      const ids = await redis.command<string[]>(indexKey, ['ZRANGE', indexKey, '0', '-1'])
      const found = await Promise.all(ids.map((id) => readSession(id)))
      const stale = ids.filter((_id, index) => found[index]?.userId !== userId)
      if (stale.length > 0) {
        const placesKey = keys.sessionPlaces(userId)
        await Promise.all([
          redis.command(indexKey, ['ZREM', indexKey, ...stale]),
          redis.command(placesKey, ['ZREM', placesKey, ...stale]),
        ])
      }
      return found
        .filter((session): session is SessionRecord => session !== null && session.userId === userId)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    },

    async listRecentSessions(seenSince, now, limit) {
      // Page through the index: sessions past their absolute expiry (not yet swept) are skipped,
      // and the index may be behind a record (a tidy-up that failed); the record decides.
      const pageSize = Math.max(limit, 100)
      const listed: SessionRecord[] = []
      for (let offset = 0; listed.length < limit; offset += pageSize) {
        const ids = await redis.command<string[]>(keys.byLastSeen, [
          'ZRANGE',
          keys.byLastSeen,
          '+inf',
          String(seenSince.getTime()),
          'BYSCORE',
          'REV',
          'LIMIT',
          String(offset),
          String(pageSize),
        ])
        const found = await Promise.all(ids.map((id) => readSession(id)))
        for (const session of found) {
          if (
            session &&
            session.lastSeenAt.getTime() >= seenSince.getTime() &&
            session.absoluteExpiresAt.getTime() > now.getTime()
          )
            listed.push(session)
        }
        if (ids.length < pageSize) break
      }
      return listed
        .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, limit)
    },

    deleteSession: (id) => deleteOne(id, ''),

    deleteUserSession: (userId, id) => deleteOne(id, userId),

    async deleteUserSessions(userId, exceptId) {
      const indexKey = keys.userSessions(userId)
      const ids = (await redis.command<string[]>(indexKey, ['ZRANGE', indexKey, '0', '-1'])).filter(
        (id) => id !== exceptId,
      )
      const outcomes = await Promise.all(ids.map((id) => deleteOne(id, userId)))
      return ids.filter((_id, index) => outcomes[index])
    },

    async deleteExpiredSessions(idleCutoff, now) {
      let deletedCount = 0
      for (let round = 0; round < maxSweepRounds; round += 1) {
        const [idle, expired] = await Promise.all([
          redis.command<string[]>(keys.byLastSeen, [
            'ZRANGE',
            keys.byLastSeen,
            '-inf',
            `(${idleCutoff.getTime()}`,
            'BYSCORE',
            'LIMIT',
            '0',
            String(sweepBatchSize),
          ]),
          redis.command<string[]>(keys.byExpiry, [
            'ZRANGE',
            keys.byExpiry,
            '-inf',
            String(now.getTime()),
            'BYSCORE',
            'LIMIT',
            '0',
            String(sweepBatchSize),
          ]),
        ])
        const candidates = [...new Set([...idle, ...expired])]
        if (candidates.length === 0) break
        const outcomes = await Promise.all(
          candidates.map(async (id) => {
            const [state, ...rest] = await redis.runScript<string[]>(
              deleteExpiredSessionScript,
              [keys.session(id), keys.refreshFamily(id), keys.sessionData(id)],
              [String(idleCutoff.getTime()), String(now.getTime())],
            )
            if (state === 'deleted') {
              const session = toSession(rest)
              if (session) await tidyAfterDelete(session)
              return 1
            }
            if (state === 'alive') {
              // The index was behind (a tidy-up that failed): put the true instants back.
              const [lastSeenAt = '0', absoluteExpiresAt = '0'] = rest
              await Promise.all([
                redis.command(keys.byLastSeen, ['ZADD', keys.byLastSeen, lastSeenAt, id]),
                redis.command(keys.byExpiry, ['ZADD', keys.byExpiry, absoluteExpiresAt, id]),
              ])
              return 0
            }
            // Gone already (its TTL ran out): only the index entries remain.
            await Promise.all([
              redis.command(keys.byLastSeen, ['ZREM', keys.byLastSeen, id]),
              redis.command(keys.byExpiry, ['ZREM', keys.byExpiry, id]),
            ])
            return 0
          }),
        )
        deletedCount += outcomes.reduce<number>((sum, count) => sum + count, 0)
      }
      return deletedCount
    },

    async countActiveSessions(idleCutoff, now) {
      // Seen since the cutoff, minus those past their absolute expiry (few: the sweep removes them).
      const [recent, expired] = await Promise.all([
        redis.command<number>(keys.byLastSeen, ['ZCOUNT', keys.byLastSeen, `(${idleCutoff.getTime()}`, '+inf']),
        redis.command<string[]>(keys.byExpiry, ['ZRANGE', keys.byExpiry, '-inf', String(now.getTime()), 'BYSCORE']),
      ])
      if (expired.length === 0) return Number(recent)
      const scores = await redis.command<Array<string | null>>(keys.byLastSeen, [
        'ZMSCORE',
        keys.byLastSeen,
        ...expired,
      ])
      const expiredButRecent = scores.filter((score) => score !== null && Number(score) > idleCutoff.getTime()).length
      return Number(recent) - expiredButRecent
    },
  }
}

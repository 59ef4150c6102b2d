/**
 * Refresh-token families in Redis. A session's family is one hash, `P:refresh-family:{id}`, in
 * the slot of the session itself (same hash tag), so the rotation script reads and changes the
 * session and its family atomically on any topology. Each field is a token hash; its value is
 * `issuedAt|rotatedAt|successorHash` (epoch milliseconds, empty when absent). A pointer
 * `P:refresh-token:{hash}` names the session of a token; it is trusted only when that family
 * holds the token, and is left to expire with the session.
 */
import type { RefreshRotation, RefreshTokenRecord, RefreshTokenStore } from '../../core/tokens/store.ts'
import { defineRedisScript, type RedisConnection } from './connection.ts'
import { deletePointerScript } from './session-scripts.ts'
import { createSessionKeys, remainingMs, toSession } from './sessions.ts'

/** KEYS: session, family. ARGV: token hash, issued at ms → 'inserted', 'no_session', 'known', 'has_current'. */
const insertTokenScript = defineRedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'no_session' end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 'known' end
local entries = redis.call('HVALS', KEYS[2])
for _, entry in ipairs(entries) do
  if string.match(entry, '^[^|]*||') then return 'has_current' end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '||')
redis.call('PEXPIRE', KEYS[2], redis.call('PTTL', KEYS[1]))
return 'inserted'
`)

/**
 * KEYS: session, family. ARGV: presented hash, successor hash, now ms, grace start ms →
 * {outcome, session fields…} with outcome rotated, grace or reused; {'missing'}.
 */
const rotateTokenScript = defineRedisScript(`
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return {'missing'} end
local entry = redis.call('HGET', KEYS[2], ARGV[1])
if not entry then return {'missing'} end
local issuedAt, rotatedAt, successor = string.match(entry, '^([^|]*)|([^|]*)|([^|]*)$')
if rotatedAt == '' then
  redis.call('HSET', KEYS[2], ARGV[1], issuedAt .. '|' .. ARGV[3] .. '|' .. ARGV[2], ARGV[2], ARGV[3] .. '||')
  local lastSeen = redis.call('HGET', KEYS[1], 'lastSeenAt')
  if tonumber(ARGV[3]) > tonumber(lastSeen) then redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[3]) end
  return {'rotated', unpack(fields)}
end
if tonumber(rotatedAt) > tonumber(ARGV[4]) and successor == ARGV[2] then
  local following = redis.call('HGET', KEYS[2], successor)
  if following and string.match(following, '^[^|]*||') then return {'grace', unpack(fields)} end
end
redis.call('DEL', KEYS[1], KEYS[2])
return {'reused', unpack(fields)}
`)

function toRefreshToken(tokenHash: string, sessionId: string, entry: string): RefreshTokenRecord {
  const [issuedAt = '0', rotatedAt = '', successorHash = ''] = entry.split('|')
  return {
    tokenHash,
    sessionId,
    issuedAt: new Date(Number(issuedAt)),
    rotatedAt: rotatedAt === '' ? null : new Date(Number(rotatedAt)),
    successorHash: successorHash === '' ? null : successorHash,
  }
}

export function createRedisRefreshTokenStore(redis: RedisConnection, keyPrefix: string): RefreshTokenStore {
  const keys = createSessionKeys(keyPrefix)

  async function findSessionId(tokenHash: string): Promise<string | null> {
    return redis.command<string | null>(keys.refreshToken(tokenHash), ['GET', keys.refreshToken(tokenHash)])
  }

  async function findEntry(tokenHash: string): Promise<{ sessionId: string; entry: string } | null> {
    const sessionId = await findSessionId(tokenHash)
    if (sessionId === null) return null
    const family = keys.refreshFamily(sessionId)
    const entry = await redis.command<string | null>(family, ['HGET', family, tokenHash])
    return entry === null ? null : { sessionId, entry }
  }

  async function setPointer(tokenHash: string, sessionId: string, ttlMs: number): Promise<void> {
    await redis.command(keys.refreshToken(tokenHash), [
      'SET',
      keys.refreshToken(tokenHash),
      sessionId,
      'PX',
      String(ttlMs),
    ])
  }

  return {
    async insertRefreshToken({ tokenHash, sessionId, issuedAt }) {
      if ((await findEntry(tokenHash)) !== null) throw new Error('this refresh token hash is known')
      const session = toSession(
        await redis.command<string[]>(keys.session(sessionId), ['HGETALL', keys.session(sessionId)]),
      )
      if (!session) throw new Error('no such session')
      const outcome = await redis.runScript<string>(
        insertTokenScript,
        [keys.session(sessionId), keys.refreshFamily(sessionId)],
        [tokenHash, String(issuedAt.getTime())],
      )
      if (outcome !== 'inserted') throw new Error(`refresh token not inserted: ${outcome}`)
      await setPointer(tokenHash, sessionId, remainingMs(session, issuedAt))
    },

    async rotateRefreshToken({ presentedHash, successorHash, now, graceStartsAt }): Promise<RefreshRotation> {
      const sessionId = await findSessionId(presentedHash)
      if (sessionId === null) return { outcome: 'missing' }
      const [outcome, ...fields] = await redis.runScript<string[]>(
        rotateTokenScript,
        [keys.session(sessionId), keys.refreshFamily(sessionId)],
        [presentedHash, successorHash, String(now.getTime()), String(graceStartsAt.getTime())],
      )
      const session = toSession(fields)
      if (!session || (outcome !== 'rotated' && outcome !== 'grace' && outcome !== 'reused'))
        return { outcome: 'missing' }
      if (outcome === 'rotated') {
        const ttlMs = remainingMs(session, now)
        await Promise.all([
          setPointer(successorHash, session.id, ttlMs),
          redis.command(keys.byLastSeen, ['ZADD', keys.byLastSeen, 'XX', 'GT', String(now.getTime()), session.id]),
        ])
      } else if (outcome === 'reused') {
        // The session is gone; its pointers and index entries are tidied like any deleted one's.
        await Promise.all([
          session.tokenHash === null
            ? null
            : redis.runScript(deletePointerScript, [keys.sessionToken(session.tokenHash)], [session.id]),
          redis.command(keys.userSessions(session.userId), ['ZREM', keys.userSessions(session.userId), session.id]),
          redis.command(keys.byLastSeen, ['ZREM', keys.byLastSeen, session.id]),
          redis.command(keys.byExpiry, ['ZREM', keys.byExpiry, session.id]),
        ])
      }
      return { outcome, session }
    },

    async findRefreshToken(tokenHash) {
      const found = await findEntry(tokenHash)
      return found ? toRefreshToken(tokenHash, found.sessionId, found.entry) : null
    },

    async findCurrentRefreshToken(sessionId) {
      const family = keys.refreshFamily(sessionId)
      const reply = await redis.command<string[]>(family, ['HGETALL', family])
      for (let index = 0; index + 1 < reply.length; index += 2) {
        const token = toRefreshToken(String(reply[index]), sessionId, String(reply[index + 1]))
        if (token.rotatedAt === null) return token
      }
      return null
    },
  }
}

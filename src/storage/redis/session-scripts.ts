/**
 * The Lua scripts of the Redis session store. Each touches the keys of one session only (one
 * hash tag, so one Cluster slot), which is what lets Redis run it atomically on any topology.
 * A session is a hash; its fields are the SessionRecord fields, instants in epoch milliseconds.
 */
import { defineRedisScript } from './connection.ts'

/** KEYS: session. ARGV: ttl ms, field, value, … → 1 inserted, 0 when the id exists. */
export const insertSessionScript = defineRedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

/** KEYS: session. ARGV: instant ms → 1 when the session exists (lastSeenAt only moves forward). */
export const touchSessionScript = defineRedisScript(`
local lastSeen = redis.call('HGET', KEYS[1], 'lastSeenAt')
if not lastSeen then return 0 end
if tonumber(ARGV[1]) > tonumber(lastSeen) then redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1]) end
return 1
`)

/**
 * KEYS: session. ARGV: instant ms, amr → 1 when the session exists; its authentication time and
 * methods are replaced only by a later (or equal) authentication.
 */
export const recordAuthenticationScript = defineRedisScript(`
local createdAt = redis.call('HGET', KEYS[1], 'createdAt')
if not createdAt then return 0 end
local current = redis.call('HGET', KEYS[1], 'authenticatedAt') or createdAt
if tonumber(ARGV[1]) >= tonumber(current) then redis.call('HSET', KEYS[1], 'authenticatedAt', ARGV[1], 'amr', ARGV[2]) end
return 1
`)

/**
 * KEYS: session, its refresh family, its data. ARGV: owner user id, or '' for any owner → the deleted
 * session's fields, or an empty list when there was none (or it belongs to someone else).
 */
export const deleteSessionScript = defineRedisScript(`
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return {} end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'userId') ~= ARGV[1] then return {} end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return fields
`)

/**
 * KEYS: session, its refresh family, its data. ARGV: idle cutoff ms, now ms → {'deleted', fields…} when idle since before the
 * cutoff or past its absolute expiry; {'alive', lastSeenAt, absoluteExpiresAt}; {'gone'}.
 */
export const deleteExpiredSessionScript = defineRedisScript(`
local lastSeen = redis.call('HGET', KEYS[1], 'lastSeenAt')
if not lastSeen then return {'gone'} end
local absolute = redis.call('HGET', KEYS[1], 'absoluteExpiresAt')
if tonumber(lastSeen) < tonumber(ARGV[1]) or tonumber(absolute) <= tonumber(ARGV[2]) then
  local fields = redis.call('HGETALL', KEYS[1])
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return {'deleted', unpack(fields)}
end
return {'alive', lastSeen, absolute}
`)

/** KEYS: pointer. ARGV: session id → deletes the pointer only while it names that session. */
export const deletePointerScript = defineRedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

/** KEYS: user index. ARGV: score, session id, ttl ms → adds; the index lives as long as its longest session. */
export const indexUserSessionScript = defineRedisScript(`
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`)

/**
 * KEYS: the user's session places. ARGV: now ms, limit, policy, session id, its absolute expiry
 * ms, ttl ms → {0} when refused, or {1, ids of the sessions to end…}. The places are the user's
 * sessions, scored by absolute expiry (so the oldest first); those past it are dropped first.
 */
export const takeSessionPlaceScript = defineRedisScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local held = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[2])
local ended = {}
if held >= limit then
  if ARGV[3] == 'refuse' then return {0} end
  ended = redis.call('ZRANGE', KEYS[1], 0, held - limit)
  redis.call('ZREM', KEYS[1], unpack(ended))
end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[4])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[6]) then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
return {1, unpack(ended)}
`)

/**
 * KEYS: session. ARGV: notice → marks the session ended (kept to tell its holder why); 1 when
 * this call marked it, 0 when the session does not exist or was marked already (whoever marked
 * it reports its end, so it is reported once).
 */
export const markSessionEndedScript = defineRedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'endedNotice') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'endedNotice', ARGV[1])
return 1
`)

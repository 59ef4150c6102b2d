/**
 * Throttle counters in Redis. Each record is one hash, `P:throttle:{key}` (the key in braces is
 * the hash tag, so in a Cluster a record sits in the slot of its own key), with the fields
 * `count`, `blockedUntil` and `expiresAt` (epoch milliseconds; no field for null). Every change
 * of a record is one Lua script on that one key, which is what the interface promises: atomic
 * per key. A call over several keys runs one script per key, all sent at once.
 *
 * Expiry is decided by the caller's `now`, as on the SQL backends, so a record past `expiresAt`
 * reads as absent whatever Redis's own clock says. The hash also carries a real TTL, PEXPIREAT
 * `expiresAt` (none when it is null), which moves later together with `expiresAt`: Redis drops
 * the record by itself, and no sweep is needed. A Redis clock ahead of the nodes' clocks ends a
 * record early by that skew; with expiries of a minute or more, NTP-level skew does not matter.
 */
import type { ThrottleRecord, ThrottleStore } from '../../core/throttle/store.ts'
import { defineRedisScript, type RedisConnection } from './connection.ts'

/** Lua helpers shared by the scripts below. */
const throttleLua = `
local function isLive(expiresAt, now)
  return expiresAt == false or tonumber(expiresAt) > tonumber(now)
end
-- Moves a live record's expiry to the later of the two, '' (never) being the latest.
local function extendExpiry(key, current, requested)
  if current == false then return end
  if requested == '' then
    redis.call('HDEL', key, 'expiresAt')
    redis.call('PERSIST', key)
  elseif tonumber(requested) > tonumber(current) then
    redis.call('HSET', key, 'expiresAt', requested)
    redis.call('PEXPIREAT', key, requested)
  end
end
`

/**
 * KEYS: record. ARGV: now ms, expires at ms or '' → the new count. An absent or expired record
 * starts again at one, unblocked, with the requested expiry.
 */
const incrementScript = defineRedisScript(`${throttleLua}
local count, expiresAt = unpack(redis.call('HMGET', KEYS[1], 'count', 'expiresAt'))
if count and isLive(expiresAt, ARGV[1]) then
  extendExpiry(KEYS[1], expiresAt, ARGV[2])
  return redis.call('HINCRBY', KEYS[1], 'count', 1)
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'count', '1')
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'expiresAt', ARGV[2])
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return 1
`)

/** KEYS: record. ARGV: now ms → takes one off a live count above zero. */
const decrementScript = defineRedisScript(`${throttleLua}
local count, expiresAt = unpack(redis.call('HMGET', KEYS[1], 'count', 'expiresAt'))
if count and isLive(expiresAt, ARGV[1]) and tonumber(count) > 0 then
  redis.call('HINCRBY', KEYS[1], 'count', -1)
end
return 0
`)

/**
 * KEYS: record. ARGV: now ms, blocked until ms, expires at ms or '' → raises a live record's
 * block and expiry (never lowers them); an absent or expired record stays absent.
 */
const extendBlockScript = defineRedisScript(`${throttleLua}
local count, blockedUntil, expiresAt = unpack(redis.call('HMGET', KEYS[1], 'count', 'blockedUntil', 'expiresAt'))
if not count or not isLive(expiresAt, ARGV[1]) then return 0 end
if blockedUntil == false or tonumber(ARGV[2]) > tonumber(blockedUntil) then
  redis.call('HSET', KEYS[1], 'blockedUntil', ARGV[2])
end
extendExpiry(KEYS[1], expiresAt, ARGV[3])
return 1
`)

/** Escapes the glob characters of SCAN MATCH, so a prefix matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

function toMs(instant: Date | null): string {
  return instant === null ? '' : String(instant.getTime())
}

function toInstant(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(Number(value))
}

export function createThrottleKeys(prefix: string) {
  const recordStart = `${prefix}:throttle:{`
  return {
    record: (key: string) => `${recordStart}${key}}`,
    /** SCAN MATCH pattern of every record whose key may start with `keyPrefix`. */
    matchPrefix: (keyPrefix: string) => `${escapeGlob(recordStart)}${escapeGlob(keyPrefix)}*`,
    /** The throttle key of a record's Redis key, or null for another kind of key. */
    keyOf: (recordKey: string) =>
      recordKey.startsWith(recordStart) && recordKey.endsWith('}') ? recordKey.slice(recordStart.length, -1) : null,
  }
}

export function createRedisThrottleStore(redis: RedisConnection, keyPrefix: string): ThrottleStore {
  const keys = createThrottleKeys(keyPrefix)

  async function deleteRecords(recordKeys: readonly string[]): Promise<number> {
    // One key per command: in a cluster the records sit in different slots.
    const deleted = await Promise.all(recordKeys.map((key) => redis.command<number>(key, ['DEL', key])))
    return deleted.reduce((total, count) => total + Number(count), 0)
  }

  return {
    async readThrottles(throttleKeys, now) {
      const replies = await Promise.all(
        throttleKeys.map((key) =>
          redis.command<Array<string | null>>(keys.record(key), ['HMGET', keys.record(key), 'count', 'blockedUntil', 'expiresAt']),
        ),
      )
      return replies.map(([count, blockedUntil, expiresAt]): ThrottleRecord | null => {
        if (count === null || count === undefined) return null
        const record = { count: Number(count), blockedUntil: toInstant(blockedUntil), expiresAt: toInstant(expiresAt) }
        return record.expiresAt === null || record.expiresAt > now ? record : null
      })
    },

    async incrementThrottles(increments, now) {
      const counts = await Promise.all(
        increments.map(({ key, expiresAt }) =>
          redis.runScript<number>(incrementScript, [keys.record(key)], [String(now.getTime()), toMs(expiresAt)]),
        ),
      )
      return counts.map(Number)
    },

    async decrementThrottles(throttleKeys, now) {
      await Promise.all(throttleKeys.map((key) => redis.runScript(decrementScript, [keys.record(key)], [String(now.getTime())])))
    },

    async extendThrottleBlocks(blocks, now) {
      await Promise.all(
        blocks.map(({ key, blockedUntil, expiresAt }) =>
          redis.runScript(extendBlockScript, [keys.record(key)], [String(now.getTime()), String(blockedUntil.getTime()), toMs(expiresAt)]),
        ),
      )
    },

    deleteThrottles: (throttleKeys) => deleteRecords(throttleKeys.map((key) => keys.record(key))),

    async deleteThrottlesByPrefix(prefix) {
      // SCAN visits every master of a cluster; the exact prefix test is made here, on the key
      // itself, since a key may hold any character.
      const found = new Set(await redis.scanKeys(keys.matchPrefix(prefix)))
      return deleteRecords([...found].filter((recordKey) => keys.keyOf(recordKey)?.startsWith(prefix) === true))
    },

    async deleteExpiredThrottles() {
      // Every record with an expiry carries it as its Redis TTL, so Redis deletes it by itself;
      // there is nothing left to sweep (and a record past its expiry already reads as absent).
      return 0
    },
  }
}

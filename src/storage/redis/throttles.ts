/**
 * Throttle counters in Redis. Each record is one hash, `P:throttle:{key}` (the key in braces is
 * the hash tag, so in a Cluster a record sits in the slot of its own key), with the fields
 * `count`, `blockedUntil`, `expiresAt`, and `pending` and `settlesBy` for its attempts in flight
 * (instants in epoch milliseconds; no field for null). Every change
 * of a record is one Lua script on that one key. A call over several keys runs one script per
 * key, all sent at once.
 *
 * A charge needs no multi-key atomicity, so the keys of one attempt may sit on different masters
 * of a Cluster: each key decides for itself, atomically, whether it refuses the attempt, holds it
 * back, or counts it (judgeKey in charge.ts), and the attempt is admitted when every key counted
 * it. When one key did not, the keys that had counted it give the charge back at once (their
 * count, the block they wrote, a record they created). Each key thus admits exactly the attempts
 * it would admit one after another, whatever the others do, and a burst gets no more passwords
 * checked than a sequence. What the split costs: while a charge is being given back, a concurrent
 * attempt can see it and be held back or refused as well (never admitted in excess).
 *
 * Expiry is decided by the caller's `now`, as on the SQL backends, so a record past `expiresAt`
 * reads as absent whatever Redis's own clock says. The hash also carries a real TTL, PEXPIREAT
 * `expiresAt` (none when it is null), which moves later together with `expiresAt`: Redis drops
 * the record by itself, and no sweep is needed. A Redis clock ahead of the nodes' clocks ends a
 * record early by that skew; with expiries of a minute or more, NTP-level skew does not matter.
 */
import { combineKeyOutcomes, type KeyOutcome } from '../../core/throttle/charge.ts'
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
local function formatMs(ms)
  return string.format('%.0f', ms)
end
-- A block must not outlive its record: a live expiry moves to at least the end of the block.
local function coverExpiry(key, blockedUntil)
  local expiresAt = redis.call('HGET', key, 'expiresAt')
  if expiresAt and blockedUntil > tonumber(expiresAt) then
    redis.call('HSET', key, 'expiresAt', formatMs(blockedUntil))
    redis.call('PEXPIREAT', key, formatMs(blockedUntil))
  end
end
-- The wait the count-th attempt gives its key, in milliseconds (computeBlockSeconds).
local function blockMs(count, threshold, baseSeconds, maxSeconds)
  if count < threshold then return 0 end
  return math.floor(math.min(maxSeconds, baseSeconds * 2 ^ math.min(count - threshold, 40)) * 1000)
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

/**
 * KEYS: record. ARGV: now ms, expires at ms or '', threshold, base delay s, max delay s,
 * enforced ('1' or '0'), cap or '', settles by ms or '' (a final attempt). One key's part of a
 * charge, the steps of judgeKey in charge.ts → {'capped'}, {'busy'}, {'blocked', renewed block
 * ms}, or {'counted', new count, created (1 or 0), previous block ms (0: none), block ms written
 * (0: none)}: what giving the charge back needs.
 */
const chargeScript = defineRedisScript(`${throttleLua}
local now = tonumber(ARGV[1])
local threshold, baseSeconds, maxSeconds = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local isEnforced, cap, settles = ARGV[6] == '1', ARGV[7], ARGV[8]
local count, blockedUntil, expiresAt, pending, settlesBy =
  unpack(redis.call('HMGET', KEYS[1], 'count', 'blockedUntil', 'expiresAt', 'pending', 'settlesBy'))
local isPresent = count ~= false and isLive(expiresAt, ARGV[1])
local current = isPresent and tonumber(count) or 0
local block = (isPresent and blockedUntil) and tonumber(blockedUntil) or 0
local inFlight = 0
if isPresent and pending and settlesBy and tonumber(settlesBy) > now then inFlight = tonumber(pending) end
if cap ~= '' and current >= tonumber(cap) then
  if inFlight > 0 then return {'busy'} end
  return {'capped'}
end
if isEnforced and block > now then
  -- A refused attempt restarts the current wait, never shortening it.
  local renewed = math.max(block, now + blockMs(current, threshold, baseSeconds, maxSeconds))
  if renewed > block then redis.call('HSET', KEYS[1], 'blockedUntil', formatMs(renewed)) end
  coverExpiry(KEYS[1], renewed)
  return {'blocked', renewed}
end
if isEnforced and inFlight > 0 and current >= threshold then return {'busy'} end
if isPresent then
  redis.call('HINCRBY', KEYS[1], 'count', 1)
  extendExpiry(KEYS[1], expiresAt, ARGV[2])
else
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'count', '1')
  if ARGV[2] ~= '' then
    redis.call('HSET', KEYS[1], 'expiresAt', ARGV[2])
    redis.call('PEXPIREAT', KEYS[1], ARGV[2])
  end
end
if inFlight == 0 then redis.call('HDEL', KEYS[1], 'pending', 'settlesBy') end
local counted = current + 1
local written = 0
if settles ~= '' then
  local settlesAt = tonumber(settles)
  if inFlight > 0 then settlesAt = math.max(settlesAt, tonumber(settlesBy)) end
  redis.call('HSET', KEYS[1], 'pending', tostring(inFlight + 1), 'settlesBy', formatMs(settlesAt))
else
  -- A final attempt is a failure now: from the threshold on, it blocks its key at once.
  local delay = blockMs(counted, threshold, baseSeconds, maxSeconds)
  if delay > 0 then
    local blockedAt = now + delay
    if blockedAt > block then
      redis.call('HSET', KEYS[1], 'blockedUntil', formatMs(blockedAt))
      written = blockedAt
    end
    coverExpiry(KEYS[1], math.max(block, blockedAt))
  end
end
return {'counted', counted, isPresent and 0 or 1, block, written}
`)

/**
 * KEYS: record. ARGV: now ms, in flight ('1' or '0'), and for a charge given back at once:
 * created ('1' or '0'), previous block ms, block ms written (0: none). Takes one off a live count
 * (and off its attempts in flight), never below zero. A charge given back also puts back the
 * block it wrote (unless another attempt moved it since) and deletes the record it created when
 * nothing else counted there since.
 */
const refundScript = defineRedisScript(`${throttleLua}
local count, blockedUntil, expiresAt, pending = unpack(redis.call('HMGET', KEYS[1], 'count', 'blockedUntil', 'expiresAt', 'pending'))
if not count or not isLive(expiresAt, ARGV[1]) then return 0 end
local left = math.max(tonumber(count) - 1, 0)
if ARGV[3] == '1' and left == 0 then
  redis.call('DEL', KEYS[1])
  return 1
end
redis.call('HSET', KEYS[1], 'count', tostring(left))
if ARGV[2] == '1' and pending and tonumber(pending) > 0 then redis.call('HINCRBY', KEYS[1], 'pending', -1) end
local written = tonumber(ARGV[5])
if written > 0 and blockedUntil and tonumber(blockedUntil) == written then
  if tonumber(ARGV[4]) > 0 then
    redis.call('HSET', KEYS[1], 'blockedUntil', ARGV[4])
  else
    redis.call('HDEL', KEYS[1], 'blockedUntil')
  end
end
return 1
`)

/**
 * KEYS: record. ARGV: now ms, blocked until ms or '', expires at ms or '' → ends one attempt in
 * flight as a failure: one off `pending`, the block and expiry raised (never lowered); an absent
 * or expired record stays absent.
 */
const settleFailureScript = defineRedisScript(`${throttleLua}
local count, blockedUntil, expiresAt, pending = unpack(redis.call('HMGET', KEYS[1], 'count', 'blockedUntil', 'expiresAt', 'pending'))
if not count or not isLive(expiresAt, ARGV[1]) then return 0 end
if pending and tonumber(pending) > 0 then redis.call('HINCRBY', KEYS[1], 'pending', -1) end
if ARGV[2] ~= '' and (blockedUntil == false or tonumber(ARGV[2]) > tonumber(blockedUntil)) then
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

type ChargeReply = ['capped'] | ['busy'] | ['blocked', number] | ['counted', number, number, number, number]

function readKeyOutcome(reply: ChargeReply): KeyOutcome {
  if (reply[0] === 'capped') return { outcome: 'capped' }
  if (reply[0] === 'busy') return { outcome: 'busy' }
  if (reply[0] === 'blocked') return { outcome: 'blocked', blockedUntil: new Date(Number(reply[1])) }
  return { outcome: 'counted', count: Number(reply[1]) }
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
          redis.command<Array<string | null>>(keys.record(key), [
            'HMGET',
            keys.record(key),
            'count',
            'blockedUntil',
            'expiresAt',
          ]),
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

    async chargeThrottles(charges, now) {
      const at = String(now.getTime())
      const replies = await Promise.all(
        charges.map(({ key, rule, expiresAt, isEnforced, cap, settlesBy }) =>
          redis.runScript<ChargeReply>(
            chargeScript,
            [keys.record(key)],
            [
              at,
              toMs(expiresAt),
              String(rule.threshold),
              String(rule.baseDelaySeconds),
              String(rule.maxDelaySeconds),
              isEnforced ? '1' : '0',
              cap === null ? '' : String(cap),
              toMs(settlesBy),
            ],
          ),
        ),
      )
      const admission = combineKeyOutcomes(replies.map(readKeyOutcome))
      if (admission.outcome !== 'admitted') {
        // Another key did not count the attempt: the keys that did give the charge back.
        await Promise.all(
          replies.map((reply, index) => {
            const charge = charges[index]
            if (reply[0] !== 'counted' || !charge) return undefined
            const [, , created, previousBlock, writtenBlock] = reply
            return redis.runScript(
              refundScript,
              [keys.record(charge.key)],
              [at, charge.settlesBy === null ? '0' : '1', String(created), String(previousBlock), String(writtenBlock)],
            )
          }),
        )
      }
      return admission
    },

    async settleThrottleFailures(settlements, now) {
      const at = String(now.getTime())
      await Promise.all(
        settlements.map(({ key, blockedUntil, expiresAt }) =>
          redis.runScript(settleFailureScript, [keys.record(key)], [at, toMs(blockedUntil), toMs(expiresAt)]),
        ),
      )
    },

    async refundThrottles(throttleKeys, now) {
      const at = String(now.getTime())
      await Promise.all(
        throttleKeys.map((key) => redis.runScript(refundScript, [keys.record(key)], [at, '1', '0', '0', '0'])),
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

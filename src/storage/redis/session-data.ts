/**
 * Session data in Redis, beside its session:
 *
 *   P:session-data:{id}   hash: json, version; expires with the session (same TTL), and is
 *                         deleted by the session store's scripts whenever the session is
 *
 * The hash tag is the session id, so in a Cluster the data sits in its session's slot and one
 * script sees both: a write is a compare-and-set on the version that also checks that the
 * session exists, atomic on any topology. Data whose session is gone is deleted on sight.
 */
import type { DocumentStore } from '../../core/documents/store.ts'
import { defineRedisScript, type RedisConnection } from './connection.ts'
import { createSessionKeys } from './sessions.ts'

/** KEYS: session, its data → {json, version}, or an empty list (and the data deleted) without the session. */
const readDataScript = defineRedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  return {}
end
local fields = redis.call('HMGET', KEYS[2], 'json', 'version')
if not fields[1] then return {} end
return fields
`)

/**
 * KEYS: session, its data. ARGV: json, expected version → the new version; 0 when the current
 * version is another; -1 (and the data deleted) when the session does not exist.
 */
const writeDataScript = defineRedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  return -1
end
local current = tonumber(redis.call('HGET', KEYS[2], 'version') or '0')
if current ~= tonumber(ARGV[2]) then return 0 end
local nextVersion = current + 1
redis.call('HSET', KEYS[2], 'json', ARGV[1], 'version', tostring(nextVersion))
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return nextVersion
`)

/** KEYS: session, its data. ARGV: json, version → 1 when inserted; 0 without the session or with data there. */
const importDataScript = defineRedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 'json', ARGV[1], 'version', ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`)

export function createRedisSessionDataStore(redis: RedisConnection, keyPrefix: string): DocumentStore {
  const keys = createSessionKeys(keyPrefix)
  return {
    async readDocument(sessionId) {
      const reply = await redis.runScript<Array<string | null>>(
        readDataScript,
        [keys.session(sessionId), keys.sessionData(sessionId)],
        [],
      )
      const [json, version] = reply
      if (typeof json !== 'string' || typeof version !== 'string') return null
      return { json, version: Number(version) }
    },

    async writeDocument(sessionId, json, expectedVersion) {
      const version = await redis.runScript<number>(
        writeDataScript,
        [keys.session(sessionId), keys.sessionData(sessionId)],
        [json, String(expectedVersion)],
      )
      if (version === -1) return { outcome: 'missing' }
      if (version === 0) return { outcome: 'stale' }
      return { outcome: 'written', version: Number(version) }
    },

    async importDocument(sessionId, record) {
      const dataKeys = [keys.session(sessionId), keys.sessionData(sessionId)]
      return (await redis.runScript<number>(importDataScript, dataKeys, [record.json, String(record.version)])) === 1
    },
  }
}

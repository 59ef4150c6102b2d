/**
 * Scheduler leases in Redis: one hash per job, `P:scheduler-lease:{job}`, with the fields `owner`,
 * `leaseExpiresAt`, `leasedOccurrenceAt` and `completedOccurrenceAt` (epoch milliseconds). Each
 * step is one Lua script on that hash, the compare-and-set the SQL backends make with a
 * conditional UPSERT. A lease ends by the caller's `now` passing `leaseExpiresAt`, as on the SQL
 * backends; the hash itself has no TTL, because the completed occurrence it remembers must
 * outlive every lease (a node waking late must not run that occurrence again).
 */
import type { SchedulerLockStore } from '../../core/scheduler/store.ts'
import { defineRedisScript, type RedisConnection } from './connection.ts'

/**
 * KEYS: job. ARGV: owner, lease expires at ms, occurrence ms, now ms → 1 when taken: the
 * occurrence is later than the last completed one, and the lease is free, expired or the owner's.
 */
const acquireScript = defineRedisScript(`
local owner, leaseExpiresAt, completed = unpack(redis.call('HMGET', KEYS[1], 'owner', 'leaseExpiresAt', 'completedOccurrenceAt'))
if completed and tonumber(completed) >= tonumber(ARGV[3]) then return 0 end
if owner and owner ~= ARGV[1] and (not leaseExpiresAt or tonumber(leaseExpiresAt) > tonumber(ARGV[4])) then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'leaseExpiresAt', ARGV[2], 'leasedOccurrenceAt', ARGV[3])
return 1
`)

/** KEYS: job. ARGV: owner, occurrence ms → 1 when the owner held the lease (now freed, the occurrence recorded). */
const completeScript = defineRedisScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'owner', 'leaseExpiresAt', 'leasedOccurrenceAt')
local completed = redis.call('HGET', KEYS[1], 'completedOccurrenceAt')
if not completed or tonumber(ARGV[2]) > tonumber(completed) then
  redis.call('HSET', KEYS[1], 'completedOccurrenceAt', ARGV[2])
end
return 1
`)

export function createSchedulerLeaseKey(prefix: string, job: string): string {
  return `${prefix}:scheduler-lease:{${job}}`
}

export function createRedisSchedulerLockStore(redis: RedisConnection, keyPrefix: string): SchedulerLockStore {
  return {
    async acquireJobLease({ job, occurrenceAt, owner, now, leaseExpiresAt }) {
      const key = createSchedulerLeaseKey(keyPrefix, job)
      const args = [owner, String(leaseExpiresAt.getTime()), String(occurrenceAt.getTime()), String(now.getTime())]
      return Number(await redis.runScript<number>(acquireScript, [key], args)) === 1
    },

    async completeJobRun({ job, owner, occurrenceAt }) {
      const key = createSchedulerLeaseKey(keyPrefix, job)
      return Number(await redis.runScript<number>(completeScript, [key], [owner, String(occurrenceAt.getTime())])) === 1
    },

    async findLastCompletedRun(job) {
      const key = createSchedulerLeaseKey(keyPrefix, job)
      const completed = await redis.command<string | null>(key, ['HGET', key, 'completedOccurrenceAt'])
      return completed === null ? null : new Date(Number(completed))
    },
  }
}

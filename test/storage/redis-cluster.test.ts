/**
 * The Redis stores on a Redis Cluster of three masters that this file starts from redis-server on
 * free loopback ports and stops at the end.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { testInvalidationBus } from '../../src/storage/contract/invalidation-bus.ts'
import {
  buildTokenSessionRecord,
  contractEpoch,
  insertTestUser,
  secondsAfterEpoch,
} from '../../src/storage/contract/records.ts'
import { testSchedulerLockStore } from '../../src/storage/contract/scheduler-leases.ts'
import { testRefreshTokenStore } from '../../src/storage/contract/refresh-tokens.ts'
import { testSessionStore } from '../../src/storage/contract/sessions.ts'
import { testThrottleStore } from '../../src/storage/contract/throttles.ts'
import { testSessionDataStore } from '../../src/storage/contract/documents.ts'
import { testTicketStore } from '../../src/storage/contract/tickets.ts'
import { openRedisConnection } from '../../src/storage/redis/connection.ts'
import { openRedisInvalidationBus } from '../../src/storage/redis/invalidation-bus.ts'
import { createSchedulerLeaseKey } from '../../src/storage/redis/scheduler-leases.ts'
import { createSessionKeys } from '../../src/storage/redis/sessions.ts'
import { createThrottleKeys } from '../../src/storage/redis/throttles.ts'
import { skipUnlessRedisServerProgram } from '../helpers/backends.ts'
import { openTestRedisStores, useOwnRedisCluster } from '../helpers/redis.ts'

const run = promisify(execFile)
const skip = skipUnlessRedisServerProgram()
const ownCluster = useOwnRedisCluster(skip)
const clusterSettings = () => ownCluster.settings()

/** The port of the master serving `slot`. */
async function masterOf(slot: number): Promise<number> {
  const { stdout } = await run('redis-cli', [
    '-p',
    String(ownCluster.cluster?.ports[0] ?? 0),
    '--json',
    'CLUSTER',
    'SLOTS',
  ])
  const ranges = JSON.parse(stdout) as Array<[number, number, [string, number, ...unknown[]]]>
  const range = ranges.find(([first, last]) => slot >= first && slot <= last)
  if (!range) throw new Error(`no master serves slot ${slot}`)
  return range[2][1]
}

async function slotOf(key: string): Promise<number> {
  const port = ownCluster.cluster?.ports[0] ?? 0
  return Number((await run('redis-cli', ['-p', String(port), 'CLUSTER', 'KEYSLOT', key])).stdout.trim())
}

describe('Redis Cluster stores', { skip }, () => {
  testSessionStore(() => openTestRedisStores(clusterSettings(), contractEpoch))
  testThrottleStore(() => openTestRedisStores(clusterSettings(), contractEpoch), { expiresByItself: true })
  testSchedulerLockStore(() => openTestRedisStores(clusterSettings(), contractEpoch))
  testRefreshTokenStore(() => openTestRedisStores(clusterSettings(), contractEpoch))
  testSessionDataStore(() => openTestRedisStores(clusterSettings(), contractEpoch))
  testTicketStore(() => openTestRedisStores(clusterSettings(), contractEpoch), { expiresByItself: true })
})

describe('Redis Cluster invalidation bus', { skip }, () => {
  testInvalidationBus(async () => {
    const settings = clusterSettings()
    const connection = await openRedisConnection({ settings, timeoutMs: 2000 })
    return {
      open: () => openRedisInvalidationBus({ redis: connection, keyPrefix: settings.keyPrefix }),
      close: () => connection.close(),
    }
  })
})

describe('Redis Cluster key layout', { skip }, () => {
  it('the cluster has three masters that each hold some of the sessions', async (t) => {
    const stores = await openTestRedisStores(clusterSettings(), contractEpoch)
    t.after(() => stores.close())
    const user = await insertTestUser(stores.accounts)
    const sessions = Array.from({ length: 30 }, () => buildTokenSessionRecord({ userId: user.id }))
    for (const session of sessions) await stores.sessions.insertSession(session)
    const keys = createSessionKeys(stores.keyPrefix)
    const slots = await Promise.all(sessions.map((session) => slotOf(keys.session(session.id))))
    const ranges = (await run('redis-cli', ['-p', String(ownCluster.cluster?.ports[0]), 'CLUSTER', 'SLOTS'])).stdout
    assert.ok(ranges.length > 0)
    assert.ok(new Set(slots).size > 3, 'sessions spread over many slots')
    assert.equal((await stores.sessions.listUserSessions(user.id)).length, 30)
    assert.deepEqual((await stores.sessions.deleteUserSessions(user.id, null)).length, 30)
  })

  it('every key of a session hashes by its id, so its scripts run atomically in one slot', async () => {
    const keys = createSessionKeys('tessera')
    const sessionKey = keys.session('session-abc')
    assert.equal(await slotOf(sessionKey), await slotOf('{session-abc}'))
    assert.equal(await slotOf(keys.userSessions('user-1')), await slotOf('{user-1}'))
    assert.equal(await slotOf(keys.sessionToken('hash-1')), await slotOf('{hash-1}'))
    assert.equal(await slotOf(keys.refreshFamily('session-abc')), await slotOf(sessionKey))
  })

  it('a throttle record and a job lease each hash by their own key, so each script runs in one slot', async () => {
    const throttleKey = createThrottleKeys('tessera').record('signin:account:alice')
    assert.equal(await slotOf(throttleKey), await slotOf('{signin:account:alice}'))
    assert.equal(await slotOf(createSchedulerLeaseKey('tessera', 'security-review')), await slotOf('{security-review}'))
  })

  it('deleteThrottlesByPrefix() finds the records of a prefix on every master', async (t) => {
    const stores = await openTestRedisStores(clusterSettings(), contractEpoch)
    t.after(() => stores.close())
    const keys = Array.from({ length: 30 }, (_, index) => `signin:account-network:alice|192.0.2.${index}`)
    const expiresAt = secondsAfterEpoch(60)
    await stores.throttles.incrementThrottles(
      keys.map((key) => ({ key, expiresAt })),
      contractEpoch,
    )
    await stores.throttles.incrementThrottles(
      [{ key: 'signin:account-network:bob|192.0.2.1', expiresAt }],
      contractEpoch,
    )
    const throttleKeys = createThrottleKeys(stores.keyPrefix)
    const holders = await Promise.all(keys.map(async (key) => masterOf(await slotOf(throttleKeys.record(key)))))
    assert.equal(new Set(holders).size, 3, 'the records sit on all three masters')
    assert.equal(await stores.throttles.deleteThrottlesByPrefix('signin:account-network:alice|'), 30)
    assert.deepEqual(
      await stores.throttles.readThrottles(keys, contractEpoch),
      keys.map(() => null),
    )
    assert.equal(
      (await stores.throttles.readThrottles(['signin:account-network:bob|192.0.2.1'], contractEpoch))[0]?.count,
      1,
    )
  })
})

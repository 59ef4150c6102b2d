import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { buildUserRecord } from '../../storage/contract/records.ts'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { TesseraError } from '../errors.ts'
import { silentObserver, type CoreObserver } from '../observer.ts'
import { createAttemptedUsernames } from './attempted-username.ts'
import { createAudit } from './audit.ts'
import { createEventIdSequence } from './event-id.ts'
import { assertSafeDetails, type AuditEventRecord } from './events.ts'

const context = { ip: '192.0.2.1', userAgent: 'unit', requestId: 'request-1' }

const usernameSecret = new Uint8Array(32).fill(7)
const accountKeys = new Set(['alice'])
const accountNames = {
  findUserByUsernameKey: async (key: string) => (accountKeys.has(key) ? buildUserRecord({ usernameKey: key }) : null),
}
const usernames = createAttemptedUsernames({ secret: usernameSecret, accounts: accountNames })

function setUp(observer: CoreObserver = silentObserver) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  return { clock, stores, audit: createAudit({ store: stores.audit, clock, nodeId: 'node-1', observer, usernames }) }
}

describe('audit recorder', () => {
  it('record() fails closed with service_unavailable and hands the event to the observer', async (t) => {
    const failed: AuditEventRecord[] = []
    const { stores, audit } = setUp({ ...silentObserver, auditWriteFailed: (events) => failed.push(...events) })
    t.after(() => stores.close())
    stores.audit.appendEvents = async () => {
      throw new Error('disk full')
    }
    await assert.rejects(
      audit.record({ type: 'login_failed', outcome: 'failure', reason: 'bad_password', username: 'Alice', context }),
      (error) => error instanceof TesseraError && error.code === 'service_unavailable',
    )
    assert.deepEqual(
      failed.map((event) => [event.type, event.username, event.ip, event.nodeId]),
      [['login_failed', 'alice', '192.0.2.1', 'node-1']],
    )
  })

  it('pruneEvents() removes only events older than the retention, in bounded batches', async (t) => {
    const { clock, stores, audit } = setUp()
    t.after(() => stores.close())
    for (let index = 0; index < 25; index += 1)
      await audit.record({ type: 'login_failed', outcome: 'failure', context })
    clock.advanceSeconds(100)
    await audit.record({ type: 'login_succeeded', outcome: 'success', context })
    assert.equal(await audit.pruneEvents({ retentionSeconds: 50, batchSize: 10, maxBatches: 2 }), 20)
    assert.equal(await audit.pruneEvents({ retentionSeconds: 50, batchSize: 10, maxBatches: 2 }), 5)
    assert.deepEqual(
      (await audit.queryEvents({}, { after: null, limit: 10 })).events.map((event) => event.type),
      ['login_succeeded'],
    )
  })
})

describe('audit event content', () => {
  it('assertSafeDetails() refuses keys that name a secret and accepts plain facts', () => {
    for (const key of [
      'password',
      'new_password',
      'refreshToken',
      'session_token',
      'secret',
      'passwordHash',
      'cookie',
      'authorization',
      'd',
      'privateJwk',
    ]) {
      assert.throws(() => assertSafeDetails({ [key]: 'x' }), TypeError, key)
    }
    assert.throws(() => assertSafeDetails({ note: 'x'.repeat(257) }), TypeError)
    assert.doesNotThrow(() => assertSafeDetails({ role: 'admin', transport: 'cookie', sessions_ended: 2, kid: 'k1' }))
  })

  // regression: #11 (item 8)
  it("keeps an account's name normalised and anything else only as a keyed digest", async () => {
    assert.equal(await usernames.describeAttempt('ＡＬＩＣＥ'), 'alice')
    const typedPassword = 'Tr0ub4dor&3 horse'
    const digest = await usernames.describeAttempt(typedPassword)
    assert.match(digest, /^~[A-Za-z0-9_-]{16}$/)
    assert.equal(await usernames.describeAttempt(typedPassword), digest, 'the same text groups together')
    assert.notEqual(await usernames.describeAttempt('Tr0ub4dor&4 horse'), digest)
    assert.equal(
      await usernames.describeAttempt('Bob'),
      await usernames.describeAttempt('BOB'),
      'spellings of one name group together',
    )
    for (const hostile of [
      'evil\n{"x":1}\r\u001b[31m',
      '\u202eadmin',
      'https://evil.example/login',
      'x '.repeat(500),
    ]) {
      const described = await usernames.describeAttempt(hostile)
      assert.match(described, /^~[A-Za-z0-9_-]{16}$/, hostile)
    }
    const otherDeployment = createAttemptedUsernames({
      secret: new Uint8Array(32).fill(8),
      accounts: { findUserByUsernameKey: async () => null },
    })
    assert.notEqual(await otherDeployment.describeAttempt(typedPassword), digest, 'keyed by the deployment')
    assert.equal(usernames.describeKnown('Alice', true), 'alice')
    assert.equal(usernames.describeKnown('Alice', false), usernames.describeKnown('alice', false))
  })

  it('record() stores a digest for a name that is no account, and the name for one that is', async (t) => {
    const { stores, audit } = setUp()
    t.after(() => stores.close())
    await audit.record({
      type: 'login_failed',
      outcome: 'failure',
      reason: 'unknown_user',
      username: 'my secret password',
      context,
    })
    await audit.record({
      type: 'login_throttled',
      outcome: 'failure',
      reason: 'account_throttled',
      username: 'ALICE',
      context,
    })
    const events = await stores.audit.queryEvents({}, { order: 'oldest_first', after: null, limit: 10 })
    assert.match(events[0]?.username ?? '', /^~/)
    assert.equal(events[1]?.username, 'alice')
    assert.ok(!JSON.stringify(events).includes('secret password'))
  })

  it('event ids are UUIDv7 and keep their creation order within one millisecond', () => {
    const next = createEventIdSequence()
    const at = new Date('2030-01-01T00:00:00.000Z')
    const ids = Array.from({ length: 5000 }, () => next(at))
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.deepEqual([...ids].sort(), ids)
    assert.equal(new Set(ids).size, ids.length)
    assert.ok(next(new Date(at.getTime() + 10_000)) > (ids.at(-1) ?? ''))
  })
})

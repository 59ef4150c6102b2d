import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { createManualClock } from '../../test/helpers/manual-clock.ts'
import { buildUserRecord } from '../storage/contract/records.ts'
import { openSqliteStores } from '../storage/sqlite/open.ts'
import { createAttemptedUsernames } from './audit/attempted-username.ts'
import { createAudit } from './audit/audit.ts'
import type { AuditEventRecord } from './audit/events.ts'
import { TesseraError } from './errors.ts'
import { silentObserver } from './observer.ts'
import { createUnitOfWork } from './unit-of-work.ts'

const context = { ip: '192.0.2.1', userAgent: 'unit', requestId: 'request-1' }

function setUp(t: TestContext) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const unrecorded: AuditEventRecord[] = []
  const recorded: AuditEventRecord[] = []
  const audit = createAudit({
    store: stores.audit,
    clock,
    nodeId: 'node-1',
    observer: {
      ...silentObserver,
      auditEventRecorded: (event) => void recorded.push(event),
      auditWriteFailed: (events) => void unrecorded.push(...events),
    },
    usernames: createAttemptedUsernames({ secret: new Uint8Array(32).fill(3), accounts: stores.accounts }),
  })
  return { stores, audit, unitOfWork: createUnitOfWork({ stores, audit }), recorded, unrecorded }
}

const isUnavailable = (error: unknown) => error instanceof TesseraError && error.code === 'service_unavailable'

describe('unit of work', () => {
  it('stores the change and its events together, and tells the observer after the commit', async (t) => {
    const { stores, unitOfWork, recorded } = setUp(t)
    const user = buildUserRecord()
    await unitOfWork.run(async (change) => {
      await change.stores.accounts.insertUser(user)
      change.record({ type: 'user_created', outcome: 'success', subjectUserId: user.id, context })
      assert.deepEqual(recorded, [], 'nothing is announced before the commit')
    })
    assert.equal((await stores.accounts.findUserById(user.id))?.id, user.id)
    const stored = await stores.audit.queryEvents({}, { order: 'oldest_first', after: null, limit: 10 })
    assert.deepEqual(
      stored.map((event) => [event.type, event.subjectUserId]),
      [['user_created', user.id]],
    )
    assert.deepEqual(
      recorded.map((event) => event.id),
      stored.map((event) => event.id),
    )
  })

  it('undoes the change when its events cannot be written, answers service_unavailable and hands the events to the observer', async (t) => {
    const { stores, unitOfWork, unrecorded } = setUp(t)
    const user = buildUserRecord()
    await assert.rejects(
      unitOfWork.run(async (change) => {
        await change.stores.accounts.insertUser(user)
        change.record({ type: 'user_created', outcome: 'success', subjectUserId: user.id, context })
        // The event's own write fails inside the transaction: a disk full, a lost connection.
        change.stores.audit.appendEvents = async () => {
          throw new Error('disk full')
        }
      }),
      isUnavailable,
    )
    assert.equal(await stores.accounts.findUserById(user.id), null)
    assert.deepEqual(
      unrecorded.map((event) => [event.type, event.subjectUserId]),
      [['user_created', user.id]],
    )
  })

  it('passes a refusal of the change through and keeps nothing of it', async (t) => {
    const { stores, unitOfWork, unrecorded } = setUp(t)
    const user = buildUserRecord()
    const refusal = new TesseraError('not_found', 'No such user.')
    await assert.rejects(
      unitOfWork.run(async (change) => {
        await change.stores.accounts.insertUser(user)
        change.record({ type: 'user_created', outcome: 'success', context })
        throw refusal
      }),
      refusal,
    )
    assert.equal(await stores.accounts.findUserById(user.id), null)
    assert.deepEqual(await stores.audit.queryEvents({}, { after: null, limit: 10, order: 'oldest_first' }), [])
    assert.deepEqual(unrecorded, [])
  })

  it('runs every step after the commit; a failing one fails the call while the change and its events stay', async (t) => {
    const { stores, unitOfWork } = setUp(t)
    const user = buildUserRecord()
    const steps: string[] = []
    await assert.rejects(
      unitOfWork.run(async (change) => {
        await change.stores.accounts.insertUser(user)
        change.record({ type: 'user_created', outcome: 'success', subjectUserId: user.id, context })
        change.afterCommit(() => {
          steps.push('first')
          throw new Error('redis is gone')
        })
        change.afterCommit(async () => {
          steps.push(`second sees the user: ${(await stores.accounts.findUserById(user.id)) !== null}`)
        })
      }),
      isUnavailable,
    )
    assert.deepEqual(steps, ['first', 'second sees the user: true'])
    assert.equal((await stores.accounts.findUserById(user.id))?.id, user.id)
    assert.equal((await stores.audit.queryEvents({}, { after: null, limit: 10, order: 'oldest_first' })).length, 1)
  })

  it('makes other callers of the stores wait until it commits, so they never land inside it', async (t) => {
    const { stores, unitOfWork } = setUp(t)
    const inside = buildUserRecord()
    const outside = buildUserRecord()
    let release = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const running = unitOfWork.run(async (change) => {
      await change.stores.accounts.insertUser(inside)
      await held
      throw new Error('refused after all')
    })
    const outsider = stores.accounts.insertUser(outside)
    await new Promise((resolve) => setImmediate(resolve))
    release()
    await assert.rejects(running, /refused after all/)
    assert.equal(await outsider, 'inserted')
    assert.equal(await stores.accounts.findUserById(inside.id), null)
    assert.equal((await stores.accounts.findUserById(outside.id))?.id, outside.id)
  })

  // regression: #11 (item 8)
  it('keeps usernames as record() does, looking a name up in its own transaction', async (t) => {
    const { stores, audit, unitOfWork } = setUp(t)
    const existing = buildUserRecord({ username: 'Olivia', usernameKey: 'olivia' })
    await stores.accounts.insertUser(existing)
    const created = buildUserRecord({ username: 'Carol', usernameKey: 'carol' })
    const attempt = (username: string) => ({
      type: 'login_failed' as const,
      outcome: 'failure' as const,
      reason: 'unknown_user' as const,
      username,
      context,
    })
    await unitOfWork.run(async (change) => {
      await change.stores.accounts.insertUser(created)
      change.record({ type: 'user_created', outcome: 'success', subjectUserId: created.id, username: 'CAROL', context })
      // No subject: each name is looked up, and the account this change inserts counts already.
      change.record(attempt('Carol'))
      change.record(attempt('OLIVIA'))
      change.record(attempt('my secret password'))
    })
    // The same names recorded outside a unit of work, for comparison.
    await audit.record(attempt('OLIVIA'))
    await audit.record(attempt('my secret password'))
    const stored = await stores.audit.queryEvents({}, { order: 'oldest_first', after: null, limit: 10 })
    const names = stored.map((event) => event.username)
    assert.deepEqual(names.slice(0, 3), ['carol', 'carol', 'olivia'])
    assert.match(names[3] ?? '', /^~[A-Za-z0-9_-]{16}$/)
    assert.deepEqual(names.slice(4), names.slice(2, 4), 'the same treatment as record()')
    assert.ok(!JSON.stringify(stored).includes('secret password'))
  })

  it('keeps a name as a digest when its lookup fails inside the transaction', async (t) => {
    const { stores, unitOfWork } = setUp(t)
    const existing = buildUserRecord({ username: 'Olivia', usernameKey: 'olivia' })
    await stores.accounts.insertUser(existing)
    await unitOfWork.run(async (change) => {
      change.stores.accounts.findUserByUsernameKey = async () => {
        throw new Error('read failed')
      }
      change.record({ type: 'login_failed', outcome: 'failure', reason: 'unknown_user', username: 'olivia', context })
    })
    const [event] = await stores.audit.queryEvents({}, { order: 'oldest_first', after: null, limit: 10 })
    assert.match(event?.username ?? '', /^~[A-Za-z0-9_-]{16}$/)
  })
})

import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { createManualClock } from '../../test/helpers/manual-clock.ts'
import { buildUserRecord } from '../storage/contract/records.ts'
import { openSqliteStores } from '../storage/sqlite/open.ts'
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
    assert.deepEqual(stored.map((event) => [event.type, event.subjectUserId]), [['user_created', user.id]])
    assert.deepEqual(recorded.map((event) => event.id), stored.map((event) => event.id))
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
    assert.deepEqual(unrecorded.map((event) => [event.type, event.subjectUserId]), [['user_created', user.id]])
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
    assert.deepEqual((await stores.audit.queryEvents({}, { after: null, limit: 10, order: 'oldest_first' })), [])
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
})

/**
 * The AuditStore contract: every backend must pass it. Events are append-only and come back
 * field for field; queries filter and page in the `(occurredAt, id)` order; a change and its
 * events persist together or not at all (on backends with transactions).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AuditEventRecord } from '../../core/audit/events.ts'
import {
  buildAuditEventRecord,
  buildUserRecord,
  openStoresForTest,
  secondsAfterEpoch,
  type OpenStores,
} from './records.ts'

const ids = (events: readonly AuditEventRecord[]) => events.map((event) => event.id)
const oldestFirst = { order: 'oldest_first' as const, after: null, limit: 100 }

export function testAuditStore(openStores: OpenStores, options: { hasTransactions: boolean }): void {
  describe('AuditStore', () => {
    it('appendEvents() stores events that queryEvents() returns field for field', async (t) => {
      const { audit } = await openStoresForTest(t, openStores)
      const event = buildAuditEventRecord({
        actorUserId: 'actor-1',
        sessionId: 'session-1',
        userAgent: 'Mozilla/5.0 ü',
        details: { role: 'admin', count: 3, isFirst: true, note: null },
      })
      const bare = buildAuditEventRecord({
        reason: null,
        subjectUserId: null,
        username: null,
        ip: null,
        userAgent: null,
        requestId: null,
      })
      await audit.appendEvents([event, bare])
      assert.deepEqual(
        (await audit.queryEvents({}, oldestFirst)).sort((a, b) => a.id.localeCompare(b.id)),
        [event, bare].sort((a, b) => a.id.localeCompare(b.id)),
      )
    })

    it('appendEvents() refuses an event whose id exists and stores none of its batch', async (t) => {
      const { audit } = await openStoresForTest(t, openStores)
      const first = buildAuditEventRecord()
      await audit.appendEvents([first])
      await assert.rejects(audit.appendEvents([buildAuditEventRecord(), { ...first, type: 'login_succeeded' }]))
      assert.deepEqual(ids(await audit.queryEvents({}, oldestFirst)), [first.id])
    })

    it('queryEvents() orders by time then id, both ways, and pages after a cursor', async (t) => {
      const { audit } = await openStoresForTest(t, openStores)
      const events = [3, 1, 2, 2, 5].map((second, index) =>
        buildAuditEventRecord({ id: `0000000${index}-event`, occurredAt: secondsAfterEpoch(second) }),
      )
      await audit.appendEvents(events)
      const sorted = [...events].sort(
        (a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.id.localeCompare(b.id),
      )
      assert.deepEqual(ids(await audit.queryEvents({}, oldestFirst)), ids(sorted))
      assert.deepEqual(
        ids(await audit.queryEvents({}, { ...oldestFirst, order: 'newest_first' })),
        ids(sorted).reverse(),
      )
      const second = sorted[1] as AuditEventRecord
      const page = await audit.queryEvents(
        {},
        { order: 'oldest_first', after: { occurredAt: second.occurredAt, id: second.id }, limit: 2 },
      )
      assert.deepEqual(ids(page), ids(sorted.slice(2, 4)))
      const before = await audit.queryEvents(
        {},
        { order: 'newest_first', after: { occurredAt: second.occurredAt, id: second.id }, limit: 10 },
      )
      assert.deepEqual(ids(before), ids(sorted.slice(0, 1)))
    })

    it('queryEvents() filters by user (actor or subject), types, outcome, ip, username and time range', async (t) => {
      const { audit } = await openStoresForTest(t, openStores)
      const asSubject = buildAuditEventRecord({ subjectUserId: 'u1', occurredAt: secondsAfterEpoch(10) })
      const asActor = buildAuditEventRecord({
        actorUserId: 'u1',
        subjectUserId: 'u2',
        type: 'role_granted',
        outcome: 'success',
        occurredAt: secondsAfterEpoch(20),
      })
      const other = buildAuditEventRecord({
        subjectUserId: 'u3',
        ip: '198.51.100.7',
        username: 'bob',
        occurredAt: secondsAfterEpoch(30),
      })
      await audit.appendEvents([asSubject, asActor, other])
      const query = async (filter: Parameters<typeof audit.queryEvents>[0]) =>
        ids(await audit.queryEvents(filter, oldestFirst)).sort()
      assert.deepEqual(await query({ userId: 'u1' }), [asSubject.id, asActor.id].sort())
      assert.deepEqual(await query({ types: ['role_granted', 'logged_out'] }), [asActor.id])
      assert.deepEqual(await query({ types: [] }), [])
      assert.deepEqual(await query({ outcome: 'success' }), [asActor.id])
      assert.deepEqual(await query({ ip: '198.51.100.7' }), [other.id])
      assert.deepEqual(await query({ username: 'bob' }), [other.id])
      assert.deepEqual(await query({ since: secondsAfterEpoch(20) }), [asActor.id, other.id].sort())
      assert.deepEqual(await query({ until: secondsAfterEpoch(20) }), [asSubject.id])
      assert.deepEqual(await query({ userId: 'nobody' }), [])
    })

    it('hasPriorUserEvent() looks only before the instant, and at the address when one is given', async (t) => {
      const { audit } = await openStoresForTest(t, openStores)
      await audit.appendEvents([
        buildAuditEventRecord({
          type: 'login_succeeded',
          outcome: 'success',
          subjectUserId: 'u1',
          ip: '192.0.2.1',
          occurredAt: secondsAfterEpoch(10),
        }),
      ])
      const query = { subjectUserId: 'u1', type: 'login_succeeded' as const, outcome: 'success' as const }
      assert.equal(await audit.hasPriorUserEvent({ ...query, before: secondsAfterEpoch(11) }), true)
      assert.equal(await audit.hasPriorUserEvent({ ...query, before: secondsAfterEpoch(10) }), false)
      assert.equal(await audit.hasPriorUserEvent({ ...query, before: secondsAfterEpoch(11), ip: '192.0.2.1' }), true)
      assert.equal(await audit.hasPriorUserEvent({ ...query, before: secondsAfterEpoch(11), ip: '192.0.2.2' }), false)
      assert.equal(
        await audit.hasPriorUserEvent({ ...query, subjectUserId: 'u2', before: secondsAfterEpoch(11) }),
        false,
      )
      assert.equal(
        await audit.hasPriorUserEvent({ ...query, outcome: 'failure', before: secondsAfterEpoch(11) }),
        false,
      )
    })

    it('countEventsByType() counts by type and outcome inside the range only', async (t) => {
      const { audit } = await openStoresForTest(t, openStores)
      await audit.appendEvents([
        buildAuditEventRecord({ occurredAt: secondsAfterEpoch(1) }),
        buildAuditEventRecord({ occurredAt: secondsAfterEpoch(2) }),
        buildAuditEventRecord({ type: 'login_succeeded', outcome: 'success', occurredAt: secondsAfterEpoch(3) }),
        buildAuditEventRecord({ occurredAt: secondsAfterEpoch(10) }),
        buildAuditEventRecord({
          type: 'login_throttled',
          reason: 'account_throttled',
          occurredAt: secondsAfterEpoch(4),
        }),
        buildAuditEventRecord({
          type: 'login_throttled',
          reason: 'account_throttled',
          occurredAt: secondsAfterEpoch(5),
          details: { repeated: 41 },
        }),
      ])
      const counts = await audit.countEventsByType(secondsAfterEpoch(1), secondsAfterEpoch(10))
      assert.deepEqual(
        [...counts].sort((a, b) => a.type.localeCompare(b.type)),
        [
          { type: 'login_failed', outcome: 'failure', count: 2, attempts: 2 },
          { type: 'login_succeeded', outcome: 'success', count: 1, attempts: 1 },
          { type: 'login_throttled', outcome: 'failure', count: 2, attempts: 42 },
        ],
      )
    })

    it('deleteEventsBefore() deletes at most the limit, oldest first, and nothing newer', async (t) => {
      const { audit } = await openStoresForTest(t, openStores)
      const events = [1, 2, 3, 4, 50].map((second) => buildAuditEventRecord({ occurredAt: secondsAfterEpoch(second) }))
      await audit.appendEvents(events)
      assert.equal(await audit.deleteEventsBefore(secondsAfterEpoch(10), 3), 3)
      assert.deepEqual(ids(await audit.queryEvents({}, oldestFirst)), ids(events.slice(3)))
      assert.equal(await audit.deleteEventsBefore(secondsAfterEpoch(10), 3), 1)
      assert.equal(await audit.deleteEventsBefore(secondsAfterEpoch(10), 3), 0)
      assert.deepEqual(ids(await audit.queryEvents({}, oldestFirst)), ids(events.slice(4)))
    })

    if (options.hasTransactions) {
      it('runUnitOfWork() keeps a change and its events together', async (t) => {
        const stores = await openStoresForTest(t, openStores)
        const user = buildUserRecord()
        const event = buildAuditEventRecord({ type: 'user_registered', outcome: 'success', subjectUserId: user.id })
        const outcome = await stores.runUnitOfWork(async (tx) => {
          const inserted = await tx.accounts.insertUser(user)
          await tx.audit.appendEvents([event])
          return inserted
        })
        assert.equal(outcome, 'inserted')
        assert.equal((await stores.accounts.findUserById(user.id))?.id, user.id)
        assert.deepEqual(ids(await stores.audit.queryEvents({}, oldestFirst)), [event.id])
      })

      it('runUnitOfWork() keeps nothing when its work fails', async (t) => {
        const stores = await openStoresForTest(t, openStores)
        const user = buildUserRecord()
        await assert.rejects(
          stores.runUnitOfWork(async (tx) => {
            await tx.accounts.insertUser(user)
            await tx.audit.appendEvents([buildAuditEventRecord()])
            throw new Error('change refused')
          }),
          /change refused/,
        )
        assert.equal(await stores.accounts.findUserById(user.id), null)
        assert.deepEqual(await stores.audit.queryEvents({}, oldestFirst), [])
      })

      it('runUnitOfWork() undoes the change when its events cannot be stored', async (t) => {
        const stores = await openStoresForTest(t, openStores)
        const existing = buildAuditEventRecord()
        await stores.audit.appendEvents([existing])
        const user = buildUserRecord()
        await assert.rejects(
          stores.runUnitOfWork(async (tx) => {
            await tx.accounts.insertUser(user)
            await tx.audit.appendEvents([{ ...existing }])
          }),
        )
        assert.equal(await stores.accounts.findUserById(user.id), null)
        assert.deepEqual(ids(await stores.audit.queryEvents({}, oldestFirst)), [existing.id])
      })

      it('runUnitOfWork() keeps calls of other requests out of its transaction', async (t) => {
        const stores = await openStoresForTest(t, openStores)
        const outsider = buildUserRecord()
        const insider = buildUserRecord()
        let signalStarted = () => {}
        const started = new Promise<void>((resolve) => (signalStarted = resolve))
        // Another request, begun outside the transaction, writes while the transaction is open.
        const outsiderDone = (async () => {
          await started
          await stores.accounts.insertUser(outsider)
        })()
        await assert.rejects(
          stores.runUnitOfWork(async (tx) => {
            await tx.accounts.insertUser(insider)
            signalStarted()
            await new Promise((resolve) => setImmediate(resolve))
            throw new Error('change refused')
          }),
          /change refused/,
        )
        await outsiderDone
        assert.equal(await stores.accounts.findUserById(insider.id), null)
        assert.equal((await stores.accounts.findUserById(outsider.id))?.id, outsider.id)
      })

      it('runUnitOfWork() lets a failed store step inside it be undone alone', async (t) => {
        const stores = await openStoresForTest(t, openStores)
        const first = buildUserRecord()
        const taken = buildUserRecord({ usernameKey: first.usernameKey })
        const kept = await stores.runUnitOfWork(async (tx) => {
          await tx.accounts.insertUser(first)
          // A refused multi-statement step (a taken name) undoes itself, not the unit of work.
          assert.equal(await tx.accounts.insertUser(taken), 'username_taken')
          return tx.accounts.findUserById(first.id)
        })
        assert.equal(kept?.id, first.id)
        assert.equal((await stores.accounts.findUserById(first.id))?.id, first.id)
        assert.equal(await stores.accounts.findUserById(taken.id), null)
      })
    }
  })
}

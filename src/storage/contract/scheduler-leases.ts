/**
 * The SchedulerLockStore contract: every backend must pass it. It is what keeps two nodes from
 * running the same occurrence of a job, and lets a surviving node take over a dead one's.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { openStoresForTest, secondsAfterEpoch, type OpenStores } from './records.ts'

function lease(owner: string, occurrence: number, now: number, expires = now + 60) {
  return {
    job: 'security-review',
    occurrenceAt: secondsAfterEpoch(occurrence),
    owner,
    now: secondsAfterEpoch(now),
    leaseExpiresAt: secondsAfterEpoch(expires),
  }
}

export function testSchedulerLockStore(openStores: OpenStores): void {
  describe('SchedulerLockStore', () => {
    it('acquireJobLease() gives an occurrence to one owner only', async (t) => {
      const { schedulerLocks } = await openStoresForTest(t, openStores)
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-a', 300, 301)), true)
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-b', 300, 302)), false)
    })

    it('completeJobRun() records the occurrence so no one runs it again', async (t) => {
      const { schedulerLocks } = await openStoresForTest(t, openStores)
      await schedulerLocks.acquireJobLease(lease('node-a', 300, 301))
      assert.equal(
        await schedulerLocks.completeJobRun({
          job: 'security-review',
          owner: 'node-a',
          occurrenceAt: secondsAfterEpoch(300),
        }),
        true,
      )
      assert.deepEqual(await schedulerLocks.findLastCompletedRun('security-review'), secondsAfterEpoch(300))
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-b', 300, 302)), false)
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-a', 300, 303)), false)
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-b', 600, 601)), true)
    })

    it('acquireJobLease() lets another owner take an expired lease of an unfinished run', async (t) => {
      const { schedulerLocks } = await openStoresForTest(t, openStores)
      await schedulerLocks.acquireJobLease(lease('node-a', 300, 301, 361))
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-b', 300, 360)), false)
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-b', 300, 361)), true)
      assert.equal(
        await schedulerLocks.completeJobRun({
          job: 'security-review',
          owner: 'node-a',
          occurrenceAt: secondsAfterEpoch(300),
        }),
        false,
      )
      assert.equal(await schedulerLocks.findLastCompletedRun('security-review'), null)
    })

    it('acquireJobLease() lets the holder take its lease again, and no one an older occurrence', async (t) => {
      const { schedulerLocks } = await openStoresForTest(t, openStores)
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-a', 300, 301)), true)
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-a', 300, 330, 400)), true)
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-b', 300, 370)), false)
      await schedulerLocks.completeJobRun({
        job: 'security-review',
        owner: 'node-a',
        occurrenceAt: secondsAfterEpoch(300),
      })
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-b', 200, 401)), false)
    })

    it('completeJobRun() refuses a non-holder and never moves the completed occurrence back', async (t) => {
      const { schedulerLocks } = await openStoresForTest(t, openStores)
      await schedulerLocks.acquireJobLease(lease('node-a', 600, 601))
      assert.equal(
        await schedulerLocks.completeJobRun({
          job: 'security-review',
          owner: 'node-b',
          occurrenceAt: secondsAfterEpoch(600),
        }),
        false,
      )
      assert.equal(await schedulerLocks.findLastCompletedRun('security-review'), null)
      assert.equal(
        await schedulerLocks.completeJobRun({
          job: 'security-review',
          owner: 'node-a',
          occurrenceAt: secondsAfterEpoch(600),
        }),
        true,
      )
      await schedulerLocks.acquireJobLease(lease('node-a', 900, 901))
      assert.equal(
        await schedulerLocks.completeJobRun({
          job: 'security-review',
          owner: 'node-a',
          occurrenceAt: secondsAfterEpoch(300),
        }),
        true,
      )
      assert.deepEqual(await schedulerLocks.findLastCompletedRun('security-review'), secondsAfterEpoch(600))
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-b', 900, 902)), true)
    })

    it('acquireJobLease() keeps jobs apart', async (t) => {
      const { schedulerLocks } = await openStoresForTest(t, openStores)
      assert.equal(await schedulerLocks.acquireJobLease(lease('node-a', 300, 301)), true)
      assert.equal(await schedulerLocks.acquireJobLease({ ...lease('node-b', 300, 301), job: 'daily-report' }), true)
      assert.equal(await schedulerLocks.findLastCompletedRun('retention'), null)
    })
  })
}

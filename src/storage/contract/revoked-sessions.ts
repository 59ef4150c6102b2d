/** The RevokedSessionStore contract: every durable backend must pass it. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { openStoresForTest, secondsAfterEpoch, type OpenStores } from './records.ts'

export function testRevokedSessionStore(openStores: OpenStores): void {
  describe('RevokedSessionStore', () => {
    it('findRevokedSessions() returns, in the order asked, the ids that insertRevokedSessions() recorded', async (t) => {
      const { revokedSessions } = await openStoresForTest(t, openStores)
      await revokedSessions.insertRevokedSessions(['s1', 's3'], secondsAfterEpoch(60))
      assert.deepEqual(await revokedSessions.findRevokedSessions(['s3', 's2', 's1']), ['s3', 's1'])
      assert.deepEqual(await revokedSessions.findRevokedSessions([]), [])
    })

    it('insertRevokedSessions() accepts an id again and keeps it for the longer time', async (t) => {
      const { revokedSessions } = await openStoresForTest(t, openStores)
      await revokedSessions.insertRevokedSessions(['s1'], secondsAfterEpoch(120))
      await revokedSessions.insertRevokedSessions(['s1'], secondsAfterEpoch(60))
      assert.equal(await revokedSessions.deleteExpiredRevokedSessions(secondsAfterEpoch(90)), 0)
      assert.deepEqual(await revokedSessions.findRevokedSessions(['s1']), ['s1'])
    })

    it('deleteExpiredRevokedSessions() deletes only records kept until before the instant', async (t) => {
      const { revokedSessions } = await openStoresForTest(t, openStores)
      await revokedSessions.insertRevokedSessions(['old'], secondsAfterEpoch(10))
      await revokedSessions.insertRevokedSessions(['new'], secondsAfterEpoch(100))
      assert.equal(await revokedSessions.deleteExpiredRevokedSessions(secondsAfterEpoch(50)), 1)
      assert.deepEqual(await revokedSessions.findRevokedSessions(['old', 'new']), ['new'])
    })
  })
}

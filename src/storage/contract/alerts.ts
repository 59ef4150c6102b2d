/** The AlertStore contract: every backend must pass it. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AlertRecord } from '../../core/alerts/store.ts'
import { buildAlertRecord, openStoresForTest, secondsAfterEpoch, type OpenStores } from './records.ts'

const ids = (alerts: readonly AlertRecord[]) => alerts.map((alert) => alert.id)
const all = { since: null, rule: null, after: null, limit: 100 }

export function testAlertStore(openStores: OpenStores): void {
  describe('AlertStore', () => {
    it('insertAlert() stores an alert that listAlerts() returns field for field', async (t) => {
      const { alerts } = await openStoresForTest(t, openStores)
      const alert = buildAlertRecord({ deliveryState: 'pending', nextDeliveryAt: secondsAfterEpoch(900) })
      await alerts.insertAlert(alert)
      assert.deepEqual(await alerts.listAlerts(all), [alert])
    })

    it('insertAlert() refuses a second alert with the same id', async (t) => {
      const { alerts } = await openStoresForTest(t, openStores)
      const alert = buildAlertRecord()
      await alerts.insertAlert(alert)
      await assert.rejects(alerts.insertAlert({ ...alert, rule: 'other' }))
    })

    it('findRecentAlert() finds the newest alert with the key raised at or after the instant', async (t) => {
      const { alerts } = await openStoresForTest(t, openStores)
      const older = buildAlertRecord({ raisedAt: secondsAfterEpoch(100) })
      const newer = buildAlertRecord({ raisedAt: secondsAfterEpoch(200) })
      await alerts.insertAlert(older)
      await alerts.insertAlert(newer)
      assert.equal((await alerts.findRecentAlert(older.dedupeKey, secondsAfterEpoch(50)))?.id, newer.id)
      assert.equal((await alerts.findRecentAlert(older.dedupeKey, secondsAfterEpoch(200)))?.id, newer.id)
      assert.equal(await alerts.findRecentAlert(older.dedupeKey, secondsAfterEpoch(201)), null)
      assert.equal(await alerts.findRecentAlert('another-key', secondsAfterEpoch(0)), null)
    })

    it('listAlerts() lists newest first, filters by time and rule, and pages after a cursor', async (t) => {
      const { alerts } = await openStoresForTest(t, openStores)
      const made = [10, 20, 30, 40].map((second, index) =>
        buildAlertRecord({
          raisedAt: secondsAfterEpoch(second),
          rule: index % 2 === 0 ? 'brute_force' : 'password_spraying',
        }),
      )
      for (const alert of made) await alerts.insertAlert(alert)
      const newestFirst = [...made].reverse()
      assert.deepEqual(ids(await alerts.listAlerts(all)), ids(newestFirst))
      assert.deepEqual(
        ids(await alerts.listAlerts({ ...all, since: secondsAfterEpoch(30) })),
        ids(newestFirst.slice(0, 2)),
      )
      assert.deepEqual(ids(await alerts.listAlerts({ ...all, rule: 'brute_force' })), [made[2]?.id, made[0]?.id])
      const second = newestFirst[1] as AlertRecord
      assert.deepEqual(
        ids(await alerts.listAlerts({ ...all, after: { raisedAt: second.raisedAt, id: second.id }, limit: 1 })),
        ids(newestFirst.slice(2, 3)),
      )
    })

    it('listAlertsDueForDelivery() returns pending alerts that are due, oldest first', async (t) => {
      const { alerts } = await openStoresForTest(t, openStores)
      const dueEarly = buildAlertRecord({ deliveryState: 'pending', nextDeliveryAt: secondsAfterEpoch(10) })
      const dueNow = buildAlertRecord({ deliveryState: 'pending', nextDeliveryAt: secondsAfterEpoch(20) })
      const later = buildAlertRecord({ deliveryState: 'pending', nextDeliveryAt: secondsAfterEpoch(21) })
      const delivered = buildAlertRecord({
        deliveryState: 'delivered',
        nextDeliveryAt: null,
        deliveredAt: secondsAfterEpoch(5),
      })
      const unconfigured = buildAlertRecord()
      for (const alert of [dueNow, later, delivered, unconfigured, dueEarly]) await alerts.insertAlert(alert)
      assert.deepEqual(ids(await alerts.listAlertsDueForDelivery(secondsAfterEpoch(20), 10)), [dueEarly.id, dueNow.id])
      assert.deepEqual(ids(await alerts.listAlertsDueForDelivery(secondsAfterEpoch(20), 1)), [dueEarly.id])
    })

    it('updateAlertDelivery() records an attempt, and answers false for an unknown alert', async (t) => {
      const { alerts } = await openStoresForTest(t, openStores)
      const alert = buildAlertRecord({ deliveryState: 'pending', nextDeliveryAt: secondsAfterEpoch(10) })
      await alerts.insertAlert(alert)
      const update = {
        deliveryState: 'delivered' as const,
        deliveryAttempts: 2,
        nextDeliveryAt: null,
        deliveredAt: secondsAfterEpoch(12),
      }
      assert.equal(await alerts.updateAlertDelivery(alert.id, update), true)
      assert.deepEqual(await alerts.listAlerts(all), [{ ...alert, ...update }])
      assert.equal(await alerts.updateAlertDelivery('no-such-alert', update), false)
    })

    it('deleteAlertsBefore() deletes at most the limit, oldest first, and nothing newer', async (t) => {
      const { alerts } = await openStoresForTest(t, openStores)
      const made = [1, 2, 3, 50].map((second) => buildAlertRecord({ raisedAt: secondsAfterEpoch(second) }))
      for (const alert of made) await alerts.insertAlert(alert)
      assert.equal(await alerts.deleteAlertsBefore(secondsAfterEpoch(10), 2), 2)
      assert.equal(await alerts.deleteAlertsBefore(secondsAfterEpoch(10), 2), 1)
      assert.deepEqual(ids(await alerts.listAlerts(all)), [made[3]?.id])
    })
  })
}

/**
 * The ThrottleStore contract: every backend must pass it. Instants only move later, an expired
 * record behaves as absent, concurrent increments are never lost, and a charge decides an
 * attempt atomically: of many simultaneous charges on the same keys, exactly as many are admitted
 * as one after another. A backend whose records expire by themselves (Redis TTLs) says so with
 * `expiresByItself`: its sweep has nothing to do.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ThrottleAdmission, ThrottleCharge, ThrottleRule, ThrottleStore } from '../../core/throttle/store.ts'
import { contractEpoch, openStoresForTest, secondsAfterEpoch, type OpenStores } from './records.ts'

const strictRule: ThrottleRule = { threshold: 3, baseDelaySeconds: 2, maxDelaySeconds: 60 }
const looseRule: ThrottleRule = { threshold: 20, baseDelaySeconds: 1, maxDelaySeconds: 3600 }

/** A final attempt (a failure at once, as a registration is) unless `settlesBy` says otherwise. */
function charge(key: string, overrides: Partial<ThrottleCharge> = {}): ThrottleCharge {
  return {
    key,
    rule: strictRule,
    expiresAt: secondsAfterEpoch(600),
    isEnforced: true,
    cap: null,
    settlesBy: null,
    ...overrides,
  }
}

/** An attempt that stays in flight (a password being verified) until settled, or for a minute. */
function inFlight(key: string, overrides: Partial<ThrottleCharge> = {}): ThrottleCharge {
  return charge(key, { settlesBy: secondsAfterEpoch(60), ...overrides })
}

async function chargeTimes(
  throttles: ThrottleStore,
  times: number,
  charges: ThrottleCharge[],
  now = contractEpoch,
): Promise<ThrottleAdmission[]> {
  const admissions: ThrottleAdmission[] = []
  for (let index = 0; index < times; index += 1) admissions.push(await throttles.chargeThrottles(charges, now))
  return admissions
}

function countAdmitted(admissions: readonly ThrottleAdmission[]): number {
  return admissions.filter((admission) => admission.outcome === 'admitted').length
}

export function testThrottleStore(openStores: OpenStores, options: { expiresByItself?: boolean } = {}): void {
  describe('ThrottleStore', () => {
    it('readThrottles() returns null for keys without a record, in the order asked', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.incrementThrottles([{ key: 'b', expiresAt: secondsAfterEpoch(60) }], contractEpoch)
      assert.deepEqual(await throttles.readThrottles(['a', 'b', 'c'], contractEpoch), [
        null,
        { count: 1, blockedUntil: null, expiresAt: secondsAfterEpoch(60) },
        null,
      ])
    })

    it('incrementThrottles() starts at one and returns every new count in order', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const expiresAt = secondsAfterEpoch(60)
      assert.deepEqual(await throttles.incrementThrottles([{ key: 'a', expiresAt }], contractEpoch), [1])
      const counts = await throttles.incrementThrottles(
        [
          { key: 'a', expiresAt },
          { key: 'b', expiresAt },
          { key: 'a', expiresAt },
        ],
        contractEpoch,
      )
      assert.deepEqual(counts, [2, 1, 3])
    })

    it('incrementThrottles() loses no count when called concurrently', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const expiresAt = secondsAfterEpoch(60)
      const results = await Promise.all(
        Array.from({ length: 50 }, () => throttles.incrementThrottles([{ key: 'hot', expiresAt }], contractEpoch)),
      )
      assert.deepEqual(
        results.map(([count]) => count).sort((a = 0, b = 0) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      )
    })

    it('incrementThrottles() restarts an expired record from one, unblocked', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(10) }], contractEpoch)
      await throttles.settleThrottleFailures(
        [{ key: 'a', blockedUntil: secondsAfterEpoch(5), expiresAt: secondsAfterEpoch(10) }],
        contractEpoch,
      )
      const later = secondsAfterEpoch(10)
      assert.deepEqual(await throttles.readThrottles(['a'], later), [null])
      assert.deepEqual(await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(20) }], later), [1])
      assert.deepEqual(await throttles.readThrottles(['a'], later), [
        { count: 1, blockedUntil: null, expiresAt: secondsAfterEpoch(20) },
      ])
    })

    it('incrementThrottles() only moves the expiry later, and a null expiry never expires', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(60) }], contractEpoch)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(30) }], contractEpoch)
      assert.deepEqual((await throttles.readThrottles(['a'], contractEpoch))[0]?.expiresAt, secondsAfterEpoch(60))
      await throttles.incrementThrottles([{ key: 'a', expiresAt: null }], contractEpoch)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(90) }], contractEpoch)
      const [record] = await throttles.readThrottles(['a'], secondsAfterEpoch(10_000_000))
      assert.deepEqual(record, { count: 4, blockedUntil: null, expiresAt: null })
    })

    it('chargeThrottles() counts the attempt on every key, an absent one from one, and returns the new counts in order', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.incrementThrottles([{ key: 'b', expiresAt: secondsAfterEpoch(600) }], contractEpoch)
      assert.deepEqual(await throttles.chargeThrottles([charge('a'), charge('b')], contractEpoch), {
        outcome: 'admitted',
        counts: [1, 2],
      })
      assert.deepEqual(await throttles.readThrottles(['a', 'b'], contractEpoch), [
        { count: 1, blockedUntil: null, expiresAt: secondsAfterEpoch(600) },
        { count: 2, blockedUntil: null, expiresAt: secondsAfterEpoch(600) },
      ])
    })

    it('chargeThrottles() blocks a key from the attempt that reaches its threshold, as if that attempt had failed, and refuses the next', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const admissions = await chargeTimes(throttles, 3, [charge('a')])
      assert.deepEqual(
        admissions.map((admission) => admission.outcome),
        ['admitted', 'admitted', 'admitted'],
      )
      assert.deepEqual((await throttles.readThrottles(['a'], contractEpoch))[0]?.blockedUntil, secondsAfterEpoch(2))
      assert.deepEqual(await throttles.chargeThrottles([charge('a')], secondsAfterEpoch(1)), {
        outcome: 'blocked',
        blockedUntil: secondsAfterEpoch(3),
      })
      // Waited out, the next attempt is admitted and blocks for twice as long.
      assert.deepEqual(await throttles.chargeThrottles([charge('a')], secondsAfterEpoch(3)), {
        outcome: 'admitted',
        counts: [4],
      })
      assert.deepEqual(await throttles.readThrottles(['a'], secondsAfterEpoch(3)), [
        { count: 4, blockedUntil: secondsAfterEpoch(7), expiresAt: secondsAfterEpoch(600) },
      ])
    })

    it('chargeThrottles() refused by a block counts nothing and restarts the wait of every enforced block in force', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await chargeTimes(throttles, 3, [charge('a')])
      await chargeTimes(throttles, 4, [charge('b', { isEnforced: false })])
      await throttles.incrementThrottles([{ key: 'c', expiresAt: secondsAfterEpoch(600) }], contractEpoch)
      const later = secondsAfterEpoch(1)
      // a waits 2 s from 0, restarted at 1 s: until 3 s; b waits 4 s from 0, restarted: until 5 s.
      const admission = await throttles.chargeThrottles([charge('a'), charge('b'), charge('c')], later)
      assert.deepEqual(admission, { outcome: 'blocked', blockedUntil: secondsAfterEpoch(5) })
      assert.deepEqual(await throttles.readThrottles(['a', 'b', 'c'], later), [
        { count: 3, blockedUntil: secondsAfterEpoch(3), expiresAt: secondsAfterEpoch(600) },
        { count: 4, blockedUntil: secondsAfterEpoch(5), expiresAt: secondsAfterEpoch(600) },
        { count: 1, blockedUntil: null, expiresAt: secondsAfterEpoch(600) },
      ])
      assert.deepEqual(await throttles.chargeThrottles([charge('fresh'), charge('a')], later), {
        outcome: 'blocked',
        blockedUntil: secondsAfterEpoch(3),
      })
      assert.deepEqual(await throttles.readThrottles(['fresh'], later), [null], 'a refused attempt creates no record')
    })

    it('chargeThrottles() counts and blocks a key that is not enforced, but never refuses for it', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const exempt = charge('a', { isEnforced: false })
      const admissions = await chargeTimes(throttles, 5, [exempt])
      assert.equal(countAdmitted(admissions), 5)
      assert.deepEqual(await throttles.readThrottles(['a'], contractEpoch), [
        { count: 5, blockedUntil: secondsAfterEpoch(8), expiresAt: secondsAfterEpoch(600) },
      ])
      assert.equal((await throttles.chargeThrottles([charge('a')], contractEpoch)).outcome, 'blocked')
    })

    it('chargeThrottles() refuses a key at its cap, blocked or not, and counts nothing', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const capped = charge('a', { rule: looseRule, cap: 4 })
      assert.equal(countAdmitted(await chargeTimes(throttles, 6, [capped, charge('other', { rule: looseRule })])), 4)
      assert.deepEqual(await throttles.chargeThrottles([capped], contractEpoch), { outcome: 'capped' })
      assert.deepEqual(
        await throttles.chargeThrottles(
          [charge('b', { isEnforced: false }), { ...capped, isEnforced: false }],
          contractEpoch,
        ),
        { outcome: 'capped' },
      )
      assert.deepEqual(
        (await throttles.readThrottles(['a', 'other', 'b'], contractEpoch)).map((record) => record?.count ?? null),
        [4, 4, null],
      )
      assert.equal(countAdmitted(await chargeTimes(throttles, 1, [{ ...capped, cap: 5 }])), 1)
    })

    it('chargeThrottles() restarts an expired record from one, unblocked', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await chargeTimes(throttles, 3, [charge('a', { expiresAt: secondsAfterEpoch(10) })])
      const later = secondsAfterEpoch(10)
      assert.deepEqual(await throttles.chargeThrottles([charge('a', { expiresAt: secondsAfterEpoch(20) })], later), {
        outcome: 'admitted',
        counts: [1],
      })
      assert.deepEqual(await throttles.readThrottles(['a'], later), [
        { count: 1, blockedUntil: null, expiresAt: secondsAfterEpoch(20) },
      ])
    })

    it('chargeThrottles() only moves the expiry later, at least to the end of a block it sets', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const short = charge('a', {
        rule: { threshold: 1, baseDelaySeconds: 30, maxDelaySeconds: 60 },
        expiresAt: secondsAfterEpoch(10),
      })
      await throttles.chargeThrottles([short], contractEpoch)
      assert.deepEqual(await throttles.readThrottles(['a'], contractEpoch), [
        { count: 1, blockedUntil: secondsAfterEpoch(30), expiresAt: secondsAfterEpoch(30) },
      ])
      await throttles.chargeThrottles([{ ...short, isEnforced: false, expiresAt: null }], contractEpoch)
      assert.deepEqual(await throttles.readThrottles(['a'], secondsAfterEpoch(10_000)), [
        { count: 2, blockedUntil: secondsAfterEpoch(60), expiresAt: null },
      ])
    })

    it('chargeThrottles() admits exactly as many of 100 simultaneous attempts on shared keys as one after another', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      // One account from one network: the strict key admits 3, and the others count only those.
      const attempt = [
        charge('account', { rule: { ...looseRule, threshold: 10 }, cap: 90 }),
        charge('account|network'),
        charge('network', { rule: looseRule }),
      ]
      const admissions = await Promise.all(
        Array.from({ length: 100 }, () => throttles.chargeThrottles(attempt, contractEpoch)),
      )
      assert.equal(countAdmitted(admissions), 3)
      assert.deepEqual(
        admissions.flatMap((admission) => (admission.outcome === 'admitted' ? [admission.counts] : [])).sort(),
        [
          [1, 1, 1],
          [2, 2, 2],
          [3, 3, 3],
        ],
      )
      assert.deepEqual(
        (await throttles.readThrottles(['account', 'account|network', 'network'], contractEpoch)).map(
          (record) => record?.count,
        ),
        [3, 3, 3],
      )
      assert.equal((await throttles.readThrottles(['account'], contractEpoch))[0]?.blockedUntil, null)
      assert.deepEqual(
        (await throttles.readThrottles(['account|network'], contractEpoch))[0]?.blockedUntil,
        secondsAfterEpoch(2),
      )
    })

    it('chargeThrottles() admits exactly the network limit of 100 usernames sprayed at once, and leaves no record for the refused', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const admissions = await Promise.all(
        Array.from({ length: 100 }, (_, index) =>
          throttles.chargeThrottles(
            [charge(`account:${index}`), charge('network', { rule: looseRule })],
            contractEpoch,
          ),
        ),
      )
      assert.equal(countAdmitted(admissions), 20)
      const accounts = await throttles.readThrottles(
        Array.from({ length: 100 }, (_, index) => `account:${index}`),
        contractEpoch,
      )
      assert.equal(accounts.filter((record) => record !== null).length, 20)
      assert.ok(accounts.every((record) => record === null || (record.count === 1 && record.blockedUntil === null)))
      assert.deepEqual(await throttles.readThrottles(['network'], contractEpoch), [
        { count: 20, blockedUntil: secondsAfterEpoch(1), expiresAt: secondsAfterEpoch(600) },
      ])
    })

    it('chargeThrottles() holds a cap exactly under 150 simultaneous attempts', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const admissions = await Promise.all(
        Array.from({ length: 150 }, (_, index) =>
          throttles.chargeThrottles(
            [charge('account', { rule: { ...looseRule, threshold: 1000 }, cap: 90 }), charge(`network:${index}`)],
            contractEpoch,
          ),
        ),
      )
      assert.equal(countAdmitted(admissions), 90)
      assert.equal(admissions.filter((admission) => admission.outcome === 'capped').length, 60)
      assert.equal((await throttles.readThrottles(['account'], contractEpoch))[0]?.count, 90)
    })

    it('chargeThrottles() counts an attempt in flight at once, and blocks nothing until it fails', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      assert.equal(countAdmitted(await chargeTimes(throttles, 3, [inFlight('a')])), 3)
      assert.deepEqual(await throttles.readThrottles(['a'], contractEpoch), [
        { count: 3, blockedUntil: null, expiresAt: secondsAfterEpoch(600) },
      ])
    })

    it('chargeThrottles() holds an attempt back while attempts in flight could still block it, and only then', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await chargeTimes(throttles, 2, [charge('a')])
      // Two failures, one in flight: if it fails, the key is at its threshold and blocked.
      assert.deepEqual(await throttles.chargeThrottles([inFlight('a')], contractEpoch), {
        outcome: 'admitted',
        counts: [3],
      })
      assert.deepEqual(await throttles.chargeThrottles([inFlight('a'), inFlight('b')], contractEpoch), {
        outcome: 'busy',
      })
      assert.deepEqual(await throttles.chargeThrottles([inFlight('a', { isEnforced: false })], contractEpoch), {
        outcome: 'admitted',
        counts: [4],
      })
      await throttles.refundThrottles(['a'], contractEpoch)
      assert.deepEqual(await throttles.readThrottles(['a', 'b'], contractEpoch), [
        { count: 3, blockedUntil: null, expiresAt: secondsAfterEpoch(600) },
        null,
      ])
      assert.deepEqual(
        await throttles.chargeThrottles([inFlight('a')], contractEpoch),
        { outcome: 'busy' },
        'one attempt is still in flight',
      )
    })

    it('chargeThrottles() lets the held-back attempt through once those in flight are refunded', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await chargeTimes(throttles, 3, [inFlight('a')])
      assert.equal((await throttles.chargeThrottles([inFlight('a')], contractEpoch)).outcome, 'busy')
      await throttles.refundThrottles(['a'], contractEpoch)
      assert.deepEqual(await throttles.chargeThrottles([inFlight('a')], contractEpoch), {
        outcome: 'admitted',
        counts: [3],
      })
    })

    it('chargeThrottles() refuses the held-back attempt once those in flight failed and blocked the key', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await chargeTimes(throttles, 3, [inFlight('a')])
      const settledAt = secondsAfterEpoch(1)
      for (const blockedUntil of [null, null, secondsAfterEpoch(3)]) {
        await throttles.settleThrottleFailures(
          [{ key: 'a', blockedUntil, expiresAt: secondsAfterEpoch(601) }],
          settledAt,
        )
      }
      assert.deepEqual(await throttles.chargeThrottles([inFlight('a')], settledAt), {
        outcome: 'blocked',
        blockedUntil: secondsAfterEpoch(3),
      })
      assert.deepEqual(await throttles.readThrottles(['a'], settledAt), [
        { count: 3, blockedUntil: secondsAfterEpoch(3), expiresAt: secondsAfterEpoch(601) },
      ])
      // Waited out, with nothing in flight, one more attempt goes ahead.
      assert.deepEqual(await throttles.chargeThrottles([inFlight('a')], secondsAfterEpoch(3)), {
        outcome: 'admitted',
        counts: [4],
      })
    })

    it('chargeThrottles() takes an attempt still in flight past its settling instant for failed, and holds nothing back for it', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await chargeTimes(throttles, 3, [inFlight('a', { settlesBy: secondsAfterEpoch(5) })])
      assert.deepEqual(await throttles.chargeThrottles([inFlight('a')], secondsAfterEpoch(4)), { outcome: 'busy' })
      assert.deepEqual(await throttles.chargeThrottles([inFlight('a')], secondsAfterEpoch(5)), {
        outcome: 'admitted',
        counts: [4],
      })
      assert.deepEqual(
        await throttles.chargeThrottles([inFlight('a')], secondsAfterEpoch(5)),
        { outcome: 'busy' },
        'the new one is in flight',
      )
    })

    it('chargeThrottles() holds an attempt at a cap back while part of the count is in flight, and refuses it once none is', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const capped = inFlight('a', { rule: looseRule, cap: 2, isEnforced: false })
      assert.equal(countAdmitted(await chargeTimes(throttles, 2, [capped])), 2)
      assert.deepEqual(await throttles.chargeThrottles([capped], contractEpoch), { outcome: 'busy' })
      for (let index = 0; index < 2; index += 1) {
        await throttles.settleThrottleFailures([{ key: 'a', blockedUntil: null, expiresAt: null }], contractEpoch)
      }
      assert.deepEqual(await throttles.chargeThrottles([capped], contractEpoch), { outcome: 'capped' })
    })

    it('chargeThrottles() admits exactly the threshold of 100 simultaneous attempts in flight and holds back the rest, counting them nowhere', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const attempt = [
        inFlight('account', { rule: { ...looseRule, threshold: 10 }, cap: 90 }),
        inFlight('account|network'),
        inFlight('network', { rule: looseRule }),
      ]
      const admissions = await Promise.all(
        Array.from({ length: 100 }, () => throttles.chargeThrottles(attempt, contractEpoch)),
      )
      assert.equal(countAdmitted(admissions), 3)
      assert.equal(admissions.filter((admission) => admission.outcome === 'busy').length, 97)
      assert.deepEqual(
        (await throttles.readThrottles(['account', 'account|network', 'network'], contractEpoch)).map(
          (record) => record?.count,
        ),
        [3, 3, 3],
      )
    })

    it('refundThrottles() takes one off, never below zero, and leaves absent keys absent', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await chargeTimes(throttles, 2, [inFlight('a')])
      await throttles.refundThrottles(['a', 'missing'], contractEpoch)
      assert.deepEqual(await throttles.readThrottles(['a', 'missing'], contractEpoch), [
        { count: 1, blockedUntil: null, expiresAt: secondsAfterEpoch(600) },
        null,
      ])
      await throttles.refundThrottles(['a', 'a'], contractEpoch)
      assert.equal((await throttles.readThrottles(['a'], contractEpoch))[0]?.count, 0)
    })

    it('settleThrottleFailures() raises a block but never lowers it', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const expiresAt = secondsAfterEpoch(60)
      await throttles.incrementThrottles([{ key: 'a', expiresAt }], contractEpoch)
      await throttles.settleThrottleFailures(
        [{ key: 'a', blockedUntil: secondsAfterEpoch(8), expiresAt }],
        contractEpoch,
      )
      await throttles.settleThrottleFailures(
        [{ key: 'a', blockedUntil: secondsAfterEpoch(4), expiresAt }],
        contractEpoch,
      )
      assert.deepEqual((await throttles.readThrottles(['a'], contractEpoch))[0]?.blockedUntil, secondsAfterEpoch(8))
      await throttles.settleThrottleFailures(
        [{ key: 'a', blockedUntil: secondsAfterEpoch(16), expiresAt: null }],
        contractEpoch,
      )
      assert.deepEqual(await throttles.readThrottles(['a'], contractEpoch), [
        { count: 1, blockedUntil: secondsAfterEpoch(16), expiresAt: null },
      ])
    })

    it('settleThrottleFailures() only moves the expiry later, as incrementThrottles() does', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(60) }], contractEpoch)
      const blockedUntil = secondsAfterEpoch(8)
      await throttles.settleThrottleFailures(
        [{ key: 'a', blockedUntil, expiresAt: secondsAfterEpoch(30) }],
        contractEpoch,
      )
      assert.deepEqual((await throttles.readThrottles(['a'], contractEpoch))[0]?.expiresAt, secondsAfterEpoch(60))
      await throttles.settleThrottleFailures(
        [{ key: 'a', blockedUntil, expiresAt: secondsAfterEpoch(90) }],
        contractEpoch,
      )
      assert.deepEqual(await throttles.readThrottles(['a'], secondsAfterEpoch(70)), [
        { count: 1, blockedUntil, expiresAt: secondsAfterEpoch(90) },
      ])
    })

    it('an expired record stays absent through settleThrottleFailures() and refundThrottles()', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(10) }], contractEpoch)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(10) }], contractEpoch)
      const later = secondsAfterEpoch(20)
      await throttles.settleThrottleFailures(
        [{ key: 'a', blockedUntil: secondsAfterEpoch(80), expiresAt: secondsAfterEpoch(90) }],
        later,
      )
      await throttles.refundThrottles(['a'], later)
      assert.deepEqual(await throttles.readThrottles(['a'], later), [null])
      assert.deepEqual(await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(30) }], later), [1])
      assert.deepEqual(await throttles.readThrottles(['a'], later), [
        { count: 1, blockedUntil: null, expiresAt: secondsAfterEpoch(30) },
      ])
    })

    it('settleThrottleFailures() leaves a key without a record absent', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.settleThrottleFailures(
        [{ key: 'a', blockedUntil: secondsAfterEpoch(8), expiresAt: secondsAfterEpoch(60) }],
        contractEpoch,
      )
      assert.deepEqual(await throttles.readThrottles(['a'], contractEpoch), [null])
    })

    it('deleteThrottles() deletes the named records and counts them', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const expiresAt = secondsAfterEpoch(60)
      await throttles.incrementThrottles(
        [
          { key: 'a', expiresAt },
          { key: 'b', expiresAt },
          { key: 'c', expiresAt },
        ],
        contractEpoch,
      )
      assert.equal(await throttles.deleteThrottles(['a', 'c', 'missing']), 2)
      assert.deepEqual(
        (await throttles.readThrottles(['a', 'b', 'c'], contractEpoch)).map((record) => record?.count ?? null),
        [null, 1, null],
      )
    })

    it('deleteThrottlesByPrefix() deletes exactly the keys that start with the prefix', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const keys = ['user:alice|1', 'user:alice|2', 'user:alice', 'user:alice2|1', 'user:alicf|1', 'user:%|1']
      await throttles.incrementThrottles(
        keys.map((key) => ({ key, expiresAt: secondsAfterEpoch(60) })),
        contractEpoch,
      )
      assert.equal(await throttles.deleteThrottlesByPrefix('user:alice|'), 2)
      assert.equal(await throttles.deleteThrottlesByPrefix('user:_'), 0)
      const left = await throttles.readThrottles(keys, contractEpoch)
      assert.deepEqual(
        left.map((record) => record !== null),
        [false, false, true, true, true, true],
      )
    })

    it('deleteThrottlesByPrefix() takes every character of the prefix literally', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const keys = ['a*|1', 'ab|1', 'a?|1', 'a[b]|1', 'a\\|1', 'a}|1', 'a', 'a{b}|1']
      await throttles.incrementThrottles(
        keys.map((key) => ({ key, expiresAt: secondsAfterEpoch(60) })),
        contractEpoch,
      )
      assert.equal(await throttles.deleteThrottlesByPrefix('*'), 0)
      assert.equal(await throttles.deleteThrottlesByPrefix('a*'), 1)
      assert.equal(await throttles.deleteThrottlesByPrefix('a?'), 1)
      assert.equal(await throttles.deleteThrottlesByPrefix('a[b]'), 1)
      assert.equal(await throttles.deleteThrottlesByPrefix('a\\'), 1)
      assert.equal(await throttles.deleteThrottlesByPrefix('a}'), 1)
      assert.equal(await throttles.deleteThrottlesByPrefix('a{b}'), 1)
      const left = await throttles.readThrottles(keys, contractEpoch)
      assert.deepEqual(
        left.map((record) => record !== null),
        [false, true, false, false, false, false, true, false],
      )
    })

    it('deleteExpiredThrottles() deletes expired records only', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.incrementThrottles(
        [
          { key: 'old', expiresAt: secondsAfterEpoch(10) },
          { key: 'new', expiresAt: secondsAfterEpoch(100) },
          { key: 'kept', expiresAt: null },
        ],
        contractEpoch,
      )
      const sweptAt = secondsAfterEpoch(50)
      assert.equal(await throttles.deleteExpiredThrottles(sweptAt), options.expiresByItself ? 0 : 1)
      const live = await throttles.readThrottles(['old', 'new', 'kept'], sweptAt)
      assert.deepEqual(
        live.map((record) => record?.count ?? null),
        [null, 1, 1],
      )
      if (!options.expiresByItself) {
        const left = await throttles.readThrottles(['old', 'new', 'kept'], contractEpoch)
        assert.deepEqual(
          left.map((record) => record?.count ?? null),
          [null, 1, 1],
        )
      }
    })
  })
}

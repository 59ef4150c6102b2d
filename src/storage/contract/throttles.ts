/**
 * The ThrottleStore contract: every backend must pass it. Instants only move later, an expired
 * record behaves as absent, and concurrent increments are never lost. A backend whose records
 * expire by themselves (Redis TTLs) says so with `expiresByItself`: its sweep has nothing to do.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { contractEpoch, openStoresForTest, secondsAfterEpoch, type OpenStores } from './records.ts'

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
        [{ key: 'a', expiresAt }, { key: 'b', expiresAt }, { key: 'a', expiresAt }],
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
      assert.deepEqual(results.map(([count]) => count).sort((a = 0, b = 0) => a - b), Array.from({ length: 50 }, (_, i) => i + 1))
    })

    it('incrementThrottles() restarts an expired record from one, unblocked', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(10) }], contractEpoch)
      await throttles.extendThrottleBlocks([{ key: 'a', blockedUntil: secondsAfterEpoch(5), expiresAt: secondsAfterEpoch(10) }], contractEpoch)
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

    it('decrementThrottles() takes one off and never goes below zero', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const expiresAt = secondsAfterEpoch(60)
      await throttles.incrementThrottles([{ key: 'a', expiresAt }, { key: 'a', expiresAt }], contractEpoch)
      await throttles.decrementThrottles(['a', 'missing'], contractEpoch)
      assert.equal((await throttles.readThrottles(['a'], contractEpoch))[0]?.count, 1)
      await throttles.decrementThrottles(['a', 'a'], contractEpoch)
      assert.equal((await throttles.readThrottles(['a'], contractEpoch))[0]?.count, 0)
      assert.deepEqual(await throttles.readThrottles(['missing'], contractEpoch), [null])
    })

    it('extendThrottleBlocks() raises a block but never lowers it', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const expiresAt = secondsAfterEpoch(60)
      await throttles.incrementThrottles([{ key: 'a', expiresAt }], contractEpoch)
      await throttles.extendThrottleBlocks([{ key: 'a', blockedUntil: secondsAfterEpoch(8), expiresAt }], contractEpoch)
      await throttles.extendThrottleBlocks([{ key: 'a', blockedUntil: secondsAfterEpoch(4), expiresAt }], contractEpoch)
      assert.deepEqual((await throttles.readThrottles(['a'], contractEpoch))[0]?.blockedUntil, secondsAfterEpoch(8))
      await throttles.extendThrottleBlocks([{ key: 'a', blockedUntil: secondsAfterEpoch(16), expiresAt: null }], contractEpoch)
      assert.deepEqual(await throttles.readThrottles(['a'], contractEpoch), [
        { count: 1, blockedUntil: secondsAfterEpoch(16), expiresAt: null },
      ])
    })

    it('extendThrottleBlocks() only moves the expiry later, as incrementThrottles() does', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(60) }], contractEpoch)
      const blockedUntil = secondsAfterEpoch(8)
      await throttles.extendThrottleBlocks([{ key: 'a', blockedUntil, expiresAt: secondsAfterEpoch(30) }], contractEpoch)
      assert.deepEqual((await throttles.readThrottles(['a'], contractEpoch))[0]?.expiresAt, secondsAfterEpoch(60))
      await throttles.extendThrottleBlocks([{ key: 'a', blockedUntil, expiresAt: secondsAfterEpoch(90) }], contractEpoch)
      assert.deepEqual(await throttles.readThrottles(['a'], secondsAfterEpoch(70)), [
        { count: 1, blockedUntil, expiresAt: secondsAfterEpoch(90) },
      ])
    })

    it('an expired record stays absent through extendThrottleBlocks() and decrementThrottles()', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(10) }], contractEpoch)
      await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(10) }], contractEpoch)
      const later = secondsAfterEpoch(20)
      await throttles.extendThrottleBlocks([{ key: 'a', blockedUntil: secondsAfterEpoch(80), expiresAt: secondsAfterEpoch(90) }], later)
      await throttles.decrementThrottles(['a'], later)
      assert.deepEqual(await throttles.readThrottles(['a'], later), [null])
      assert.deepEqual(await throttles.incrementThrottles([{ key: 'a', expiresAt: secondsAfterEpoch(30) }], later), [1])
      assert.deepEqual(await throttles.readThrottles(['a'], later), [{ count: 1, blockedUntil: null, expiresAt: secondsAfterEpoch(30) }])
    })

    it('extendThrottleBlocks() leaves a key without a record absent', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      await throttles.extendThrottleBlocks(
        [{ key: 'a', blockedUntil: secondsAfterEpoch(8), expiresAt: secondsAfterEpoch(60) }],
        contractEpoch,
      )
      assert.deepEqual(await throttles.readThrottles(['a'], contractEpoch), [null])
    })

    it('deleteThrottles() deletes the named records and counts them', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const expiresAt = secondsAfterEpoch(60)
      await throttles.incrementThrottles([{ key: 'a', expiresAt }, { key: 'b', expiresAt }, { key: 'c', expiresAt }], contractEpoch)
      assert.equal(await throttles.deleteThrottles(['a', 'c', 'missing']), 2)
      assert.deepEqual((await throttles.readThrottles(['a', 'b', 'c'], contractEpoch)).map((record) => record?.count ?? null), [null, 1, null])
    })

    it('deleteThrottlesByPrefix() deletes exactly the keys that start with the prefix', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const keys = ['user:alice|1', 'user:alice|2', 'user:alice', 'user:alice2|1', 'user:alicf|1', 'user:%|1']
      await throttles.incrementThrottles(keys.map((key) => ({ key, expiresAt: secondsAfterEpoch(60) })), contractEpoch)
      assert.equal(await throttles.deleteThrottlesByPrefix('user:alice|'), 2)
      assert.equal(await throttles.deleteThrottlesByPrefix('user:_'), 0)
      const left = await throttles.readThrottles(keys, contractEpoch)
      assert.deepEqual(left.map((record) => record !== null), [false, false, true, true, true, true])
    })

    it('deleteThrottlesByPrefix() takes every character of the prefix literally', async (t) => {
      const { throttles } = await openStoresForTest(t, openStores)
      const keys = ['a*|1', 'ab|1', 'a?|1', 'a[b]|1', 'a\\|1', 'a}|1', 'a', 'a{b}|1']
      await throttles.incrementThrottles(keys.map((key) => ({ key, expiresAt: secondsAfterEpoch(60) })), contractEpoch)
      assert.equal(await throttles.deleteThrottlesByPrefix('*'), 0)
      assert.equal(await throttles.deleteThrottlesByPrefix('a*'), 1)
      assert.equal(await throttles.deleteThrottlesByPrefix('a?'), 1)
      assert.equal(await throttles.deleteThrottlesByPrefix('a[b]'), 1)
      assert.equal(await throttles.deleteThrottlesByPrefix('a\\'), 1)
      assert.equal(await throttles.deleteThrottlesByPrefix('a}'), 1)
      assert.equal(await throttles.deleteThrottlesByPrefix('a{b}'), 1)
      const left = await throttles.readThrottles(keys, contractEpoch)
      assert.deepEqual(left.map((record) => record !== null), [false, true, false, false, false, false, true, false])
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
      assert.deepEqual(live.map((record) => record?.count ?? null), [null, 1, 1])
      if (!options.expiresByItself) {
        const left = await throttles.readThrottles(['old', 'new', 'kept'], contractEpoch)
        assert.deepEqual(left.map((record) => record?.count ?? null), [null, 1, 1])
      }
    })
  })
}

/**
 * The SigningKeyStore contract: every backend must pass it. A key is usable until the instant it
 * retires; the key ring relies on the oldest-first order to pick the newest active key last.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildSigningKeyRecord, openStoresForTest, secondsAfterEpoch, type OpenStores } from './records.ts'

export function testSigningKeyStore(openStores: OpenStores): void {
  describe('SigningKeyStore', () => {
    it('insertSigningKey() stores a key that listUsableSigningKeys() returns field for field', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      const key = buildSigningKeyRecord({ retiresAt: secondsAfterEpoch(3600) })
      await signingKeys.insertSigningKey(key)
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(1)), [key])
    })

    for (const algorithm of ['ES256', 'RS256'] as const) {
      it(`insertSigningKey() keeps the algorithm of an ${algorithm} key`, async (t) => {
        const { signingKeys } = await openStoresForTest(t, openStores)
        const key = buildSigningKeyRecord({ algorithm })
        await signingKeys.insertSigningKey(key)
        assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(1)), [key])
      })
    }

    it('insertSigningKey() refuses a second key with the same kid', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      const key = buildSigningKeyRecord()
      await signingKeys.insertSigningKey(key)
      await assert.rejects(signingKeys.insertSigningKey({ ...key, privateJwkCiphertext: 'v1.other' }))
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(1)), [key])
    })

    it('listUsableSigningKeys() excludes keys retired at or before now', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      const retiredEarlier = buildSigningKeyRecord({ retiresAt: secondsAfterEpoch(50) })
      const retiringNow = buildSigningKeyRecord({ retiresAt: secondsAfterEpoch(100) })
      const retiringLater = buildSigningKeyRecord({ retiresAt: secondsAfterEpoch(101) })
      const inService = buildSigningKeyRecord({ retiresAt: null })
      for (const key of [retiredEarlier, retiringNow, retiringLater, inService]) {
        await signingKeys.insertSigningKey(key)
      }
      const usable = await signingKeys.listUsableSigningKeys(secondsAfterEpoch(100))
      assert.deepEqual(usable.map((key) => key.kid).sort(), [retiringLater.kid, inService.kid].sort())
    })

    it('listUsableSigningKeys() includes keys that are not active yet', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      const upcoming = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(0), activatesAt: secondsAfterEpoch(500) })
      await signingKeys.insertSigningKey(upcoming)
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(100)), [upcoming])
    })

    it('listUsableSigningKeys() lists keys oldest first by activation', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      // The third key was published ahead of its activation, so creation order differs.
      const first = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(0), activatesAt: secondsAfterEpoch(0) })
      const second = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(10), activatesAt: secondsAfterEpoch(20) })
      const third = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(5), activatesAt: secondsAfterEpoch(40) })
      for (const key of [third, first, second]) await signingKeys.insertSigningKey(key)
      const usable = await signingKeys.listUsableSigningKeys(secondsAfterEpoch(60))
      assert.deepEqual(
        usable.map((key) => key.kid),
        [first.kid, second.kid, third.kid],
      )
    })

    it('listUsableSigningKeys() orders keys that activate together by creation', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      const older = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(1), activatesAt: secondsAfterEpoch(30) })
      const newer = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(2), activatesAt: secondsAfterEpoch(30) })
      await signingKeys.insertSigningKey(newer)
      await signingKeys.insertSigningKey(older)
      const usable = await signingKeys.listUsableSigningKeys(secondsAfterEpoch(60))
      assert.deepEqual(
        usable.map((key) => key.kid),
        [older.kid, newer.kid],
      )
    })

    it('rotateSigningKey() inserts the new key and schedules the retirement of the keys in service', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      const current = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(0), activatesAt: secondsAfterEpoch(0) })
      await signingKeys.insertSigningKey(current)
      const next = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(100), activatesAt: secondsAfterEpoch(700) })
      await signingKeys.rotateSigningKey(next, secondsAfterEpoch(1305))
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(100)), [
        { ...current, retiresAt: secondsAfterEpoch(1305) },
        next,
      ])
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(1305)), [next])
    })

    it('rotateSigningKey() leaves the instant of a key already retiring', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      const oldest = buildSigningKeyRecord({ activatesAt: secondsAfterEpoch(0), retiresAt: secondsAfterEpoch(1305) })
      const pending = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(100), activatesAt: secondsAfterEpoch(700) })
      await signingKeys.insertSigningKey(oldest)
      await signingKeys.insertSigningKey(pending)
      const newest = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(200), activatesAt: secondsAfterEpoch(800) })
      await signingKeys.rotateSigningKey(newest, secondsAfterEpoch(1405))
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(200)), [
        oldest,
        { ...pending, retiresAt: secondsAfterEpoch(1405) },
        newest,
      ])
    })

    it('rotateSigningKey() and replaceSigningKeys() change nothing when the new kid is taken', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      const current = buildSigningKeyRecord()
      await signingKeys.insertSigningKey(current)
      const taken = { ...current, privateJwkCiphertext: 'v1.other' }
      await assert.rejects(signingKeys.rotateSigningKey(taken, secondsAfterEpoch(60)))
      await assert.rejects(signingKeys.replaceSigningKeys(taken, secondsAfterEpoch(60)))
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(100)), [current])
    })

    it('replaceSigningKeys() inserts the new key and retires every other key at the instant given, however late it was', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      const retiring = buildSigningKeyRecord({ activatesAt: secondsAfterEpoch(0), retiresAt: secondsAfterEpoch(1305) })
      const active = buildSigningKeyRecord({ createdAt: secondsAfterEpoch(100), activatesAt: secondsAfterEpoch(700) })
      const alreadyGone = buildSigningKeyRecord({ activatesAt: secondsAfterEpoch(0), retiresAt: secondsAfterEpoch(50) })
      for (const key of [retiring, active, alreadyGone]) await signingKeys.insertSigningKey(key)
      const replacement = buildSigningKeyRecord({
        createdAt: secondsAfterEpoch(900),
        activatesAt: secondsAfterEpoch(900),
      })
      await signingKeys.replaceSigningKeys(replacement, secondsAfterEpoch(900))
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(899)), [
        { ...retiring, retiresAt: secondsAfterEpoch(900) },
        { ...active, retiresAt: secondsAfterEpoch(900) },
        replacement,
      ])
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(900)), [replacement])
      // The key that had retired before keeps its earlier instant.
      assert.equal(await signingKeys.deleteRetiredSigningKeys(secondsAfterEpoch(50)), 1)
    })

    it('deleteRetiredSigningKeys() deletes the keys retired at or before now and keeps the others', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      const gone = buildSigningKeyRecord({ activatesAt: secondsAfterEpoch(0), retiresAt: secondsAfterEpoch(100) })
      const retiring = buildSigningKeyRecord({ activatesAt: secondsAfterEpoch(0), retiresAt: secondsAfterEpoch(200) })
      const current = buildSigningKeyRecord({ activatesAt: secondsAfterEpoch(50) })
      for (const key of [gone, retiring, current]) await signingKeys.insertSigningKey(key)
      assert.equal(await signingKeys.deleteRetiredSigningKeys(secondsAfterEpoch(100)), 1)
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(0)), [retiring, current])
      assert.equal(await signingKeys.deleteRetiredSigningKeys(secondsAfterEpoch(100)), 0)
    })

    it('listUsableSigningKeys() returns an empty list when there are no keys', async (t) => {
      const { signingKeys } = await openStoresForTest(t, openStores)
      assert.deepEqual(await signingKeys.listUsableSigningKeys(secondsAfterEpoch(0)), [])
    })
  })
}

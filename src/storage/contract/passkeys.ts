/** The PasskeyStore contract: every durable backend must pass it. */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import type { PasskeyRecord, WebAuthnChallengeRecord } from '../../core/passkeys/store.ts'
import { contractEpoch, insertTestUser, openStoresForTest, secondsAfterEpoch, type OpenStores } from './records.ts'

function buildPasskey(userId: string, overrides: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return {
    id: randomBytes(16).toString('base64url'),
    userId,
    publicKey: Uint8Array.from(randomBytes(77)),
    counter: 0,
    transports: ['internal', 'hybrid'],
    isBackupEligible: false,
    name: 'Laptop ü',
    createdAt: contractEpoch,
    lastUsedAt: null,
    ...overrides,
  }
}

function buildChallenge(overrides: Partial<WebAuthnChallengeRecord> = {}): WebAuthnChallengeRecord {
  return {
    challengeHash: `challenge-${randomUUID()}`,
    purpose: 'sign_in',
    userId: null,
    boundTo: null,
    expiresAt: secondsAfterEpoch(300),
    ...overrides,
  }
}

async function openWithUser(t: TestContext, openStores: OpenStores) {
  const stores = await openStoresForTest(t, openStores)
  const user = await insertTestUser(stores.accounts)
  return { store: stores.passkeys, userId: user.id, stores }
}

export function testPasskeyStore(openStores: OpenStores): void {
  describe('PasskeyStore', () => {
    it('insertPasskey() stores a passkey that findPasskey() and listUserPasskeys() return field for field', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const first = buildPasskey(userId, { isBackupEligible: true, transports: [] })
      const second = buildPasskey(userId, {
        createdAt: secondsAfterEpoch(5),
        lastUsedAt: secondsAfterEpoch(6),
        counter: 9,
      })
      assert.equal(await store.insertPasskey(second), 'inserted')
      assert.equal(await store.insertPasskey(first), 'inserted')
      assert.deepEqual(await store.findPasskey(first.id), first)
      assert.deepEqual(await store.listUserPasskeys(userId), [first, second])
      assert.equal(await store.findPasskey('unknown'), null)
    })

    it('insertPasskey() refuses a credential id registered already, even to another user', async (t) => {
      const { store, userId, stores } = await openWithUser(t, openStores)
      const other = await insertTestUser(stores.accounts)
      const passkey = buildPasskey(userId)
      await store.insertPasskey(passkey)
      assert.equal(await store.insertPasskey({ ...passkey, userId: other.id }), 'exists')
      assert.equal((await store.findPasskey(passkey.id))?.userId, userId)
    })

    it('recordPasskeyUse() moves the counter forward only, and lets counters that stay at 0 through', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const counting = buildPasskey(userId, { counter: 5 })
      await store.insertPasskey(counting)
      assert.equal(await store.recordPasskeyUse(counting.id, 5, secondsAfterEpoch(1)), false)
      assert.equal(await store.recordPasskeyUse(counting.id, 4, secondsAfterEpoch(1)), false)
      assert.equal(await store.recordPasskeyUse(counting.id, 6, secondsAfterEpoch(2)), true)
      assert.deepEqual(await store.findPasskey(counting.id), {
        ...counting,
        counter: 6,
        lastUsedAt: secondsAfterEpoch(2),
      })
      const counterless = buildPasskey(userId)
      await store.insertPasskey(counterless)
      assert.equal(await store.recordPasskeyUse(counterless.id, 0, secondsAfterEpoch(3)), true)
      assert.equal(await store.recordPasskeyUse(counterless.id, 0, secondsAfterEpoch(4)), true)
      assert.equal(await store.recordPasskeyUse('unknown', 1, secondsAfterEpoch(4)), false)
    })

    it('recordPasskeyUse() lets one of 20 simultaneous uses of the same counter through', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const passkey = buildPasskey(userId, { counter: 1 })
      await store.insertPasskey(passkey)
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => store.recordPasskeyUse(passkey.id, 2, secondsAfterEpoch(1))),
      )
      assert.equal(outcomes.filter(Boolean).length, 1)
    })

    it("renamePasskey() and deletePasskey() act on the owner's passkeys only", async (t) => {
      const { store, userId, stores } = await openWithUser(t, openStores)
      const other = await insertTestUser(stores.accounts)
      const passkey = buildPasskey(userId)
      await store.insertPasskey(passkey)
      assert.equal(await store.renamePasskey(other.id, passkey.id, 'Stolen'), false)
      assert.equal(await store.renamePasskey(userId, passkey.id, 'Phone'), true)
      assert.equal((await store.findPasskey(passkey.id))?.name, 'Phone')
      assert.equal(await store.deletePasskey(other.id, passkey.id), false)
      assert.equal(await store.deletePasskey(userId, passkey.id), true)
      assert.equal(await store.deletePasskey(userId, passkey.id), false)
      await store.insertPasskey(buildPasskey(userId))
      await store.insertPasskey(buildPasskey(userId))
      assert.equal(await store.deleteUserPasskeys(userId), 2)
      assert.deepEqual(await store.listUserPasskeys(userId), [])
    })

    it('consumeWebAuthnChallenge() returns a live challenge once; an expired one is spent too', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const challenge = buildChallenge({ purpose: 'registration', userId, boundTo: 'session-1' })
      await store.insertWebAuthnChallenge(challenge)
      assert.deepEqual(await store.consumeWebAuthnChallenge(challenge.challengeHash, secondsAfterEpoch(1)), challenge)
      assert.equal(await store.consumeWebAuthnChallenge(challenge.challengeHash, secondsAfterEpoch(1)), null)
      const expired = buildChallenge()
      await store.insertWebAuthnChallenge(expired)
      assert.equal(await store.consumeWebAuthnChallenge(expired.challengeHash, secondsAfterEpoch(300)), null)
      assert.equal(await store.consumeWebAuthnChallenge(expired.challengeHash, secondsAfterEpoch(1)), null)
      await store.insertWebAuthnChallenge(buildChallenge({ expiresAt: secondsAfterEpoch(10) }))
      await store.insertWebAuthnChallenge(buildChallenge({ expiresAt: secondsAfterEpoch(100) }))
      assert.equal(await store.deleteExpiredWebAuthnChallenges(secondsAfterEpoch(50)), 1)
    })

    it('consumeWebAuthnChallenge() gives a challenge to one of 20 simultaneous consumers', async (t) => {
      const { store } = await openWithUser(t, openStores)
      const challenge = buildChallenge()
      await store.insertWebAuthnChallenge(challenge)
      const taken = await Promise.all(
        Array.from({ length: 20 }, () => store.consumeWebAuthnChallenge(challenge.challengeHash, secondsAfterEpoch(1))),
      )
      assert.equal(taken.filter((outcome) => outcome !== null).length, 1)
    })
  })
}

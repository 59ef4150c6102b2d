/** The SecondFactorStore contract: every durable backend must pass it. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import type { MfaChallengeRecord, TotpRecord } from '../../core/second-factor/store.ts'
import { contractEpoch, insertTestUser, openStoresForTest, secondsAfterEpoch, type OpenStores } from './records.ts'

function buildTotp(userId: string, overrides: Partial<TotpRecord> = {}): TotpRecord {
  return {
    id: randomUUID(),
    userId,
    secretCiphertext: `v1.sealed-${randomUUID()}`,
    algorithm: 'SHA1',
    digits: 6,
    periodSeconds: 30,
    lastUsedStep: null,
    createdAt: contractEpoch,
    confirmedAt: null,
    ...overrides,
  }
}

function buildChallenge(userId: string, overrides: Partial<MfaChallengeRecord> = {}): MfaChallengeRecord {
  return {
    tokenHash: `challenge-hash-${randomUUID()}`,
    userId,
    transport: 'cookie',
    createdAt: contractEpoch,
    expiresAt: secondsAfterEpoch(300),
    attemptsLeft: 3,
    ...overrides,
  }
}

async function openWithUser(t: TestContext, openStores: OpenStores) {
  const stores = await openStoresForTest(t, openStores)
  const user = await insertTestUser(stores.accounts)
  return { store: stores.secondFactors, userId: user.id, stores }
}

export function testSecondFactorStore(openStores: OpenStores): void {
  describe('SecondFactorStore', () => {
    it('savePendingTotp() stores a secret that findTotp() returns field for field, and replaces a pending one', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const first = buildTotp(userId)
      assert.equal(await store.savePendingTotp(first), true)
      assert.deepEqual(await store.findTotp(userId), first)
      const second = buildTotp(userId, { algorithm: 'SHA256', digits: 8, createdAt: secondsAfterEpoch(5) })
      assert.equal(await store.savePendingTotp(second), true)
      assert.deepEqual(await store.findTotp(userId), second)
    })

    it('confirmTotp() confirms only the pending secret it names, once; savePendingTotp() then leaves it alone', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const pending = buildTotp(userId)
      await store.savePendingTotp(pending)
      assert.equal(await store.confirmTotp(userId, 'another-secret', 10, secondsAfterEpoch(1)), false)
      assert.equal(await store.confirmTotp(userId, pending.id, 10, secondsAfterEpoch(1)), true)
      assert.equal(await store.confirmTotp(userId, pending.id, 11, secondsAfterEpoch(2)), false)
      assert.deepEqual(await store.findTotp(userId), {
        ...pending,
        lastUsedStep: 10,
        confirmedAt: secondsAfterEpoch(1),
      })
      assert.equal(await store.savePendingTotp(buildTotp(userId)), false)
      assert.equal((await store.findTotp(userId))?.id, pending.id)
    })

    it('recordTotpStep() accepts each later step once and refuses the same or an earlier one (replay)', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const pending = buildTotp(userId)
      await store.savePendingTotp(pending)
      assert.equal(await store.recordTotpStep(userId, pending.id, 5), false, 'a pending secret accepts no sign-in code')
      await store.confirmTotp(userId, pending.id, 10, secondsAfterEpoch(1))
      assert.equal(await store.recordTotpStep(userId, pending.id, 10), false)
      assert.equal(await store.recordTotpStep(userId, pending.id, 9), false)
      assert.equal(await store.recordTotpStep(userId, pending.id, 11), true)
      assert.equal(await store.recordTotpStep(userId, pending.id, 11), false)
      assert.equal(await store.recordTotpStep(userId, 'another-secret', 12), false)
    })

    it('recordTotpStep() lets exactly one of 20 simultaneous uses of one step through', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const totp = buildTotp(userId)
      await store.savePendingTotp(totp)
      await store.confirmTotp(userId, totp.id, 1, secondsAfterEpoch(1))
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => store.recordTotpStep(userId, totp.id, 2)))
      assert.equal(outcomes.filter(Boolean).length, 1)
    })

    it('deleteTotp() deletes the secret once', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      await store.savePendingTotp(buildTotp(userId))
      assert.equal(await store.deleteTotp(userId), true)
      assert.equal(await store.deleteTotp(userId), false)
      assert.equal(await store.findTotp(userId), null)
    })

    it('recovery codes are consumed once each, counted, and void when replaced', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      await store.replaceRecoveryCodes(userId, ['h1', 'h2', 'h3'], contractEpoch)
      assert.equal(await store.countRecoveryCodes(userId), 3)
      assert.equal(await store.consumeRecoveryCode(userId, 'h2', secondsAfterEpoch(1)), true)
      assert.equal(await store.consumeRecoveryCode(userId, 'h2', secondsAfterEpoch(2)), false)
      assert.equal(await store.consumeRecoveryCode(userId, 'unknown', secondsAfterEpoch(2)), false)
      assert.equal(await store.countRecoveryCodes(userId), 2)
      assert.deepEqual(await store.listRecoveryCodeHashes(userId), ['h1', 'h3'])
      await store.replaceRecoveryCodes(userId, ['h4'], secondsAfterEpoch(3))
      assert.equal(await store.consumeRecoveryCode(userId, 'h1', secondsAfterEpoch(4)), false)
      assert.equal(await store.countRecoveryCodes(userId), 1)
      assert.equal(await store.deleteRecoveryCodes(userId), 1)
      assert.equal(await store.countRecoveryCodes(userId), 0)
    })

    it('consumeRecoveryCode() lets exactly one of 20 simultaneous uses of one code through', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      await store.replaceRecoveryCodes(userId, ['only'], contractEpoch)
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => store.consumeRecoveryCode(userId, 'only', secondsAfterEpoch(1))),
      )
      assert.equal(outcomes.filter(Boolean).length, 1)
    })

    it('a recovery code of one user is no code of another', async (t) => {
      const { store, userId, stores } = await openWithUser(t, openStores)
      const other = await insertTestUser(stores.accounts)
      await store.replaceRecoveryCodes(userId, ['shared-hash'], contractEpoch)
      assert.equal(await store.consumeRecoveryCode(other.id, 'shared-hash', secondsAfterEpoch(1)), false)
      assert.equal(await store.countRecoveryCodes(userId), 1)
    })

    it('an MFA challenge is found while live, allows its attempts, and is consumed once', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const challenge = buildChallenge(userId, { attemptsLeft: 2 })
      await store.insertMfaChallenge(challenge)
      assert.deepEqual(await store.findMfaChallenge(challenge.tokenHash, secondsAfterEpoch(1)), challenge)
      assert.deepEqual(await store.takeMfaChallengeAttempt(challenge.tokenHash, secondsAfterEpoch(1)), challenge)
      assert.equal((await store.findMfaChallenge(challenge.tokenHash, secondsAfterEpoch(1)))?.attemptsLeft, 1)
      assert.deepEqual(await store.consumeMfaChallenge(challenge.tokenHash, secondsAfterEpoch(2)), {
        ...challenge,
        attemptsLeft: 1,
      })
      assert.equal(await store.consumeMfaChallenge(challenge.tokenHash, secondsAfterEpoch(2)), null)
      assert.equal(await store.findMfaChallenge(challenge.tokenHash, secondsAfterEpoch(2)), null)
    })

    it('an MFA challenge is dead once expired or out of attempts', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const expiring = buildChallenge(userId)
      await store.insertMfaChallenge(expiring)
      assert.equal(await store.findMfaChallenge(expiring.tokenHash, secondsAfterEpoch(300)), null)
      assert.equal(await store.takeMfaChallengeAttempt(expiring.tokenHash, secondsAfterEpoch(300)), null)
      assert.equal(await store.consumeMfaChallenge(expiring.tokenHash, secondsAfterEpoch(300)), null)
      const spent = buildChallenge(userId, { attemptsLeft: 1 })
      await store.insertMfaChallenge(spent)
      assert.notEqual(await store.takeMfaChallengeAttempt(spent.tokenHash, secondsAfterEpoch(1)), null)
      assert.equal(await store.takeMfaChallengeAttempt(spent.tokenHash, secondsAfterEpoch(1)), null)
      assert.equal(await store.findMfaChallenge(spent.tokenHash, secondsAfterEpoch(1)), null)
      // The request that took the last attempt may still complete the sign-in with it.
      assert.deepEqual(await store.consumeMfaChallenge(spent.tokenHash, secondsAfterEpoch(1)), {
        ...spent,
        attemptsLeft: 0,
      })
      assert.equal(await store.deleteExpiredMfaChallenges(secondsAfterEpoch(299)), 0)
      assert.equal(await store.deleteExpiredMfaChallenges(secondsAfterEpoch(300)), 1)
    })

    it('takeMfaChallengeAttempt() gives 30 simultaneous takers exactly the attempts the challenge has', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const challenge = buildChallenge(userId, { attemptsLeft: 5 })
      await store.insertMfaChallenge(challenge)
      const taken = await Promise.all(
        Array.from({ length: 30 }, () => store.takeMfaChallengeAttempt(challenge.tokenHash, secondsAfterEpoch(1))),
      )
      assert.equal(taken.filter((outcome) => outcome !== null).length, 5)
    })

    it('consumeMfaChallenge() lets exactly one of 20 simultaneous consumers have the challenge', async (t) => {
      const { store, userId } = await openWithUser(t, openStores)
      const challenge = buildChallenge(userId)
      await store.insertMfaChallenge(challenge)
      const consumed = await Promise.all(
        Array.from({ length: 20 }, () => store.consumeMfaChallenge(challenge.tokenHash, secondsAfterEpoch(1))),
      )
      assert.equal(consumed.filter((outcome) => outcome !== null).length, 1)
    })
  })
}

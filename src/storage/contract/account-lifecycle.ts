/**
 * The account-lifecycle part of the durable stores' contract: disabling, requiring a new
 * password, finding users by a key prefix, the holders of a role, deleting a user with everything
 * that is its, and keeping a deleted user's audit events under pseudonyms.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  buildAuditEventRecord,
  buildSessionRecord,
  buildTokenSessionRecord,
  insertTestUser,
  openStoresForTest,
  secondsAfterEpoch,
  type OpenStores,
} from './records.ts'

export function testAccountLifecycleStores(openStores: OpenStores): void {
  describe('AccountStore and AuditStore: account lifecycle', () => {
    it('setUserDisabled() disables and enables, and setPasswordChangeRequired() sets and clears the flag', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = await insertTestUser(accounts)
      const disabled = await accounts.setUserDisabled(user.id, secondsAfterEpoch(10), secondsAfterEpoch(10))
      assert.deepEqual(disabled?.disabledAt, secondsAfterEpoch(10))
      assert.deepEqual((await accounts.findUserById(user.id))?.updatedAt, secondsAfterEpoch(10))
      assert.equal((await accounts.setUserDisabled(user.id, null, secondsAfterEpoch(20)))?.disabledAt, null)
      assert.equal(
        await accounts.setUserDisabled('00000000-0000-4000-8000-000000000000', null, secondsAfterEpoch(20)),
        null,
      )
      assert.equal(await accounts.setPasswordChangeRequired(user.id, true, secondsAfterEpoch(30)), true)
      assert.equal((await accounts.findUserById(user.id))?.isPasswordChangeRequired, true)
      assert.equal(await accounts.setPasswordChangeRequired(user.id, false, secondsAfterEpoch(31)), true)
      assert.equal((await accounts.findUserById(user.id))?.isPasswordChangeRequired, false)
      assert.equal(
        await accounts.setPasswordChangeRequired('00000000-0000-4000-8000-000000000000', true, secondsAfterEpoch(31)),
        false,
      )
    })

    it('listUsers() with a key prefix keeps only the keys that start with it, in order, after the cursor', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      for (const key of ['ann', 'anna', 'annabel', 'anne', 'bob', 'an', 'änne', 'anz'])
        await insertTestUser(accounts, { usernameKey: key, usernameSkeleton: null })
      const keys = async (options: { afterUsernameKey: string | null; limit: number; keyPrefix?: string }) =>
        (await accounts.listUsers(options)).map((user) => user.usernameKey)
      assert.deepEqual(await keys({ afterUsernameKey: null, limit: 10, keyPrefix: 'ann' }), [
        'ann',
        'anna',
        'annabel',
        'anne',
      ])
      assert.deepEqual(await keys({ afterUsernameKey: 'anna', limit: 2, keyPrefix: 'ann' }), ['annabel', 'anne'])
      assert.deepEqual(await keys({ afterUsernameKey: null, limit: 10, keyPrefix: 'än' }), ['änne'])
      assert.deepEqual(await keys({ afterUsernameKey: null, limit: 10, keyPrefix: 'x' }), [])
      assert.equal((await keys({ afterUsernameKey: null, limit: 10 })).length, 8)
    })

    it('lockActiveRoleHolders() names the enabled holders of a role only', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const first = await insertTestUser(accounts, { roles: ['admin', 'user'] })
      await insertTestUser(accounts, { roles: ['admin'], disabledAt: secondsAfterEpoch(1) })
      await insertTestUser(accounts, { roles: ['user'] })
      assert.deepEqual(await accounts.lockActiveRoleHolders('admin', 2), [first.id])
      const second = await insertTestUser(accounts, { roles: ['admin'] })
      assert.deepEqual((await accounts.lockActiveRoleHolders('admin', 5)).sort(), [first.id, second.id].sort())
      assert.equal((await accounts.lockActiveRoleHolders('admin', 1)).length, 1)
    })

    it('deleteUser() deletes the user with its roles, sessions, refresh tokens and second factor, and nobody else', async (t) => {
      const stores = await openStoresForTest(t, openStores)
      const user = await insertTestUser(stores.accounts, { roles: ['admin', 'user'] })
      const other = await insertTestUser(stores.accounts)
      const session = buildTokenSessionRecord({ userId: user.id })
      const kept = buildSessionRecord({ userId: other.id })
      await stores.sessions.insertSession(session)
      await stores.sessions.insertSession(kept)
      await stores.refreshTokens.insertRefreshToken({
        tokenHash: 'refresh-hash-of-the-deleted',
        sessionId: session.id,
        issuedAt: secondsAfterEpoch(1),
      })
      await stores.secondFactors.savePendingTotp({
        id: 'totp-of-the-deleted',
        userId: user.id,
        secretCiphertext: 'sealed',
        algorithm: 'SHA1',
        digits: 6,
        periodSeconds: 30,
        lastUsedStep: null,
        createdAt: secondsAfterEpoch(1),
        confirmedAt: null,
      })
      assert.equal(await stores.accounts.deleteUser(user.id), true)
      assert.equal(await stores.accounts.deleteUser(user.id), false)
      assert.equal(await stores.accounts.findUserById(user.id), null)
      assert.equal(await stores.accounts.hasUserWithRole('admin'), false)
      assert.equal(await stores.sessions.findSessionById(session.id), null)
      assert.equal(await stores.refreshTokens.findRefreshToken('refresh-hash-of-the-deleted'), null)
      assert.equal(await stores.secondFactors.findTotp(user.id), null)
      assert.ok(await stores.sessions.findSessionById(kept.id))
      assert.ok(await stores.accounts.findUserById(other.id))
    })

    it("pseudonymizeSubject() replaces a user's id and name in every event, leaves others alone, and nothing else may change", async (t) => {
      const { audit } = await openStoresForTest(t, openStores)
      const asActor = buildAuditEventRecord({ actorUserId: 'user-1', subjectUserId: 'user-2', username: 'bob' })
      const asSubject = buildAuditEventRecord({ actorUserId: null, subjectUserId: 'user-1', username: 'alice' })
      const byName = buildAuditEventRecord({ actorUserId: null, subjectUserId: null, username: 'alice' })
      const unrelated = buildAuditEventRecord({ actorUserId: 'user-3', subjectUserId: 'user-3', username: 'carol' })
      await audit.appendEvents([asActor, asSubject, byName, unrelated])
      const changed = await audit.pseudonymizeSubject({
        userId: 'user-1',
        pseudonymousUserId: '~u1',
        usernameKey: 'alice',
        pseudonymousUsername: '~alice',
      })
      assert.equal(changed, 3)
      const after = new Map(
        (await audit.queryEvents({}, { order: 'oldest_first', after: null, limit: 10 })).map((event) => [
          event.id,
          event,
        ]),
      )
      assert.deepEqual(after.get(asActor.id), { ...asActor, actorUserId: '~u1' })
      assert.deepEqual(after.get(asSubject.id), { ...asSubject, subjectUserId: '~u1', username: '~alice' })
      assert.deepEqual(after.get(byName.id), { ...byName, username: '~alice' })
      assert.deepEqual(after.get(unrelated.id), unrelated)
      assert.equal(
        (await audit.queryEvents({ userId: '~u1' }, { order: 'oldest_first', after: null, limit: 10 })).length,
        2,
      )
      // The trail stays append-only: only a `~` pseudonym may replace an id or a name.
      await assert.rejects(
        audit.pseudonymizeSubject({
          userId: 'user-3',
          pseudonymousUserId: 'someone-else',
          usernameKey: 'nobody',
          pseudonymousUsername: '~x',
        }),
      )
      assert.deepEqual(
        (await audit.queryEvents({ userId: 'user-3' }, { order: 'oldest_first', after: null, limit: 10 }))[0],
        unrelated,
      )
    })
  })
}

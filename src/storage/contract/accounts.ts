/**
 * The AccountStore contract: every backend must pass it. Usernames are compared by their key
 * exactly as given (normalisation is the core's job), and roles come back sorted.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  buildUserRecord,
  contractEpoch,
  insertTestUser,
  openStoresForTest,
  secondsAfterEpoch,
  type OpenStores,
} from './records.ts'

export function testAccountStore(openStores: OpenStores): void {
  describe('AccountStore', () => {
    it('insertUser() stores a user that findUserById() returns field for field', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = buildUserRecord({ username: 'Alice', usernameKey: 'alice', roles: ['admin', 'user'] })
      assert.equal(await accounts.insertUser(user), 'inserted')
      assert.deepEqual(await accounts.findUserById(user.id), user)
    })

    it('insertUser() keeps a disabled instant', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = await insertTestUser(accounts)
      const disabled = buildUserRecord({ disabledAt: secondsAfterEpoch(30) })
      await accounts.insertUser(disabled)
      assert.deepEqual((await accounts.findUserById(disabled.id))?.disabledAt, secondsAfterEpoch(30))
      assert.equal((await accounts.findUserById(user.id))?.disabledAt, null)
    })

    it('insertUser() answers username_taken for a second user with the same key', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const first = buildUserRecord({ username: 'Alice', usernameKey: 'alice' })
      const second = buildUserRecord({ username: 'ALICE', usernameKey: 'alice', roles: ['admin'] })
      assert.equal(await accounts.insertUser(first), 'inserted')
      assert.equal(await accounts.insertUser(second), 'username_taken')
      assert.equal(await accounts.findUserById(second.id), null)
      assert.deepEqual(await accounts.findUserByUsernameKey('alice'), first)
      assert.equal(await accounts.hasUserWithRole('admin'), false)
    })

    // regression: #11 (item 7)
    it('insertUser() answers username_taken for a second user with the same skeleton, and lets null skeletons repeat', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const first = buildUserRecord({ usernameKey: 'modern', usernameSkeleton: 'rnodern' })
      const lookAlike = buildUserRecord({ usernameKey: 'rnodern', usernameSkeleton: 'rnodern' })
      assert.equal(await accounts.insertUser(first), 'inserted')
      assert.equal(await accounts.insertUser(lookAlike), 'username_taken')
      assert.equal(await accounts.findUserById(lookAlike.id), null)
      assert.equal(await accounts.insertUser(buildUserRecord({ usernameSkeleton: null })), 'inserted')
      assert.equal(await accounts.insertUser(buildUserRecord({ usernameSkeleton: null })), 'inserted')
    })

    it('listUsersWithoutSkeleton() pages by id and setUsernameSkeleton() sets a free skeleton once', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const holder = buildUserRecord({ usernameKey: 'root', usernameSkeleton: 'root' })
      const legacy = [0, 1, 2].map((index) =>
        buildUserRecord({ id: `0000000${index}-0000-4000-8000-000000000000`, usernameSkeleton: null }),
      )
      for (const user of [holder, ...legacy]) await accounts.insertUser(user)
      const firstPage = await accounts.listUsersWithoutSkeleton({ afterId: null, limit: 2 })
      assert.deepEqual(
        firstPage.map((user) => user.id),
        legacy.slice(0, 2).map((user) => user.id),
      )
      const secondPage = await accounts.listUsersWithoutSkeleton({ afterId: firstPage.at(-1)?.id ?? null, limit: 2 })
      assert.deepEqual(
        secondPage.map((user) => user.id),
        [legacy[2]?.id],
      )
      const [one, two] = legacy
      assert.equal(await accounts.setUsernameSkeleton(one?.id ?? '', 'r00t-skeleton'), true)
      assert.equal(await accounts.setUsernameSkeleton(one?.id ?? '', 'another'), false, 'a skeleton is set once')
      assert.equal(await accounts.setUsernameSkeleton(two?.id ?? '', 'root'), false, 'held by another user')
      assert.equal((await accounts.findUserById(two?.id ?? ''))?.usernameSkeleton, null)
      assert.equal((await accounts.findUserById(one?.id ?? ''))?.usernameSkeleton, 'r00t-skeleton')
      assert.equal((await accounts.listUsersWithoutSkeleton({ afterId: null, limit: 10 })).length, 2)
    })

    it('insertUser() accepts users whose keys differ', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      assert.equal(await accounts.insertUser(buildUserRecord({ usernameKey: 'alice' })), 'inserted')
      assert.equal(await accounts.insertUser(buildUserRecord({ usernameKey: 'alice2' })), 'inserted')
    })

    it('findUserById() returns roles sorted whatever order they were inserted in', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = buildUserRecord({ roles: ['user', 'auditor', 'admin'] })
      await accounts.insertUser(user)
      assert.deepEqual((await accounts.findUserById(user.id))?.roles, ['admin', 'auditor', 'user'])
    })

    it('findUserById() returns an empty role list for a user without roles', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = buildUserRecord({ roles: [] })
      await accounts.insertUser(user)
      assert.deepEqual((await accounts.findUserById(user.id))?.roles, [])
    })

    it('findUserById() returns null for an unknown id', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      await insertTestUser(accounts)
      assert.equal(await accounts.findUserById('00000000-0000-4000-8000-000000000000'), null)
    })

    it('findUserByUsernameKey() matches the key exactly', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = buildUserRecord({ username: 'Alice', usernameKey: 'alice' })
      await accounts.insertUser(user)
      assert.deepEqual(await accounts.findUserByUsernameKey('alice'), user)
      assert.equal(await accounts.findUserByUsernameKey('Alice'), null)
      assert.equal(await accounts.findUserByUsernameKey('alic'), null)
      assert.equal(await accounts.findUserByUsernameKey('alice%'), null)
    })

    it('updatePasswordHash() replaces the hash and the update instant', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = buildUserRecord()
      await accounts.insertUser(user)
      const change = { from: user.passwordHash, to: '$argon2id$new' }
      assert.equal(await accounts.updatePasswordHash(user.id, change, secondsAfterEpoch(60)), true)
      const updated = await accounts.findUserById(user.id)
      assert.equal(updated?.passwordHash, '$argon2id$new')
      assert.deepEqual(updated?.updatedAt, secondsAfterEpoch(60))
      assert.deepEqual(updated?.createdAt, contractEpoch)
    })

    it('updatePasswordHash() returns false for an unknown user and changes no one', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = buildUserRecord()
      await accounts.insertUser(user)
      const change = { from: user.passwordHash, to: '$argon2id$new' }
      assert.equal(await accounts.updatePasswordHash('no-such-user', change, secondsAfterEpoch(60)), false)
      assert.deepEqual(await accounts.findUserById(user.id), user)
    })

    it('updatePasswordHash() changes nothing when the hash is no longer the expected one', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = buildUserRecord()
      await accounts.insertUser(user)
      const stale = { from: '$argon2id$an-earlier-hash', to: '$argon2id$new' }
      assert.equal(await accounts.updatePasswordHash(user.id, stale, secondsAfterEpoch(60)), false)
      assert.deepEqual(await accounts.findUserById(user.id), user)
    })

    it('advanceSessionEpoch() moves the epoch on by one each time and returns the updated user', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = buildUserRecord()
      await accounts.insertUser(user)
      const first = await accounts.advanceSessionEpoch(user.id, secondsAfterEpoch(30))
      assert.deepEqual(first, { ...user, sessionEpoch: 1, updatedAt: secondsAfterEpoch(30) })
      await Promise.all([1, 2, 3].map(() => accounts.advanceSessionEpoch(user.id, secondsAfterEpoch(40))))
      assert.equal((await accounts.findUserById(user.id))?.sessionEpoch, 4)
      assert.equal(await accounts.advanceSessionEpoch('no-such-user', secondsAfterEpoch(40)), null)
    })

    it('replaceRoles() replaces every role and returns the updated user', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = buildUserRecord({ roles: ['admin', 'user'] })
      await accounts.insertUser(user)
      const updated = await accounts.replaceRoles(user.id, ['auditor', 'support'], secondsAfterEpoch(90))
      assert.deepEqual(updated, { ...user, roles: ['auditor', 'support'], updatedAt: secondsAfterEpoch(90) })
      assert.deepEqual(await accounts.findUserById(user.id), updated)
    })

    it('replaceRoles() returns roles sorted', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = await insertTestUser(accounts)
      const updated = await accounts.replaceRoles(user.id, ['user', 'admin'], secondsAfterEpoch(1))
      assert.deepEqual(updated?.roles, ['admin', 'user'])
    })

    it('replaceRoles() with no roles leaves the user without roles', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = await insertTestUser(accounts, { roles: ['admin'] })
      assert.deepEqual((await accounts.replaceRoles(user.id, [], secondsAfterEpoch(1)))?.roles, [])
      assert.equal(await accounts.hasUserWithRole('admin'), false)
    })

    it('replaceRoles() returns null for an unknown user and grants nothing', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      assert.equal(await accounts.replaceRoles('no-such-user', ['admin'], secondsAfterEpoch(1)), null)
      assert.equal(await accounts.hasUserWithRole('admin'), false)
    })

    it('replaceRoles() leaves the roles of other users alone', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const target = await insertTestUser(accounts, { roles: ['admin'] })
      const bystander = await insertTestUser(accounts, { roles: ['admin', 'user'] })
      await accounts.replaceRoles(target.id, ['user'], secondsAfterEpoch(1))
      assert.deepEqual((await accounts.findUserById(bystander.id))?.roles, ['admin', 'user'])
    })

    it('listUsers() pages through users in username key order', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      for (const key of ['dave', 'alice', 'erin', 'carol', 'bob']) {
        await accounts.insertUser(buildUserRecord({ usernameKey: key }))
      }
      const keysOf = (users: Array<{ usernameKey: string }>) => users.map((user) => user.usernameKey)
      const firstPage = await accounts.listUsers({ afterUsernameKey: null, limit: 2 })
      assert.deepEqual(keysOf(firstPage), ['alice', 'bob'])
      const secondPage = await accounts.listUsers({ afterUsernameKey: 'bob', limit: 2 })
      assert.deepEqual(keysOf(secondPage), ['carol', 'dave'])
      const lastPage = await accounts.listUsers({ afterUsernameKey: 'dave', limit: 2 })
      assert.deepEqual(keysOf(lastPage), ['erin'])
      assert.deepEqual(await accounts.listUsers({ afterUsernameKey: 'erin', limit: 2 }), [])
    })

    it('listUsers() starts strictly after a cursor that is not itself a key', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      for (const key of ['alice', 'bob', 'carol']) await accounts.insertUser(buildUserRecord({ usernameKey: key }))
      const page = await accounts.listUsers({ afterUsernameKey: 'b', limit: 10 })
      assert.deepEqual(
        page.map((user) => user.usernameKey),
        ['bob', 'carol'],
      )
    })

    it('listUsers() returns whole records with their roles', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      const user = buildUserRecord({ usernameKey: 'alice', roles: ['user', 'admin'] })
      await accounts.insertUser(user)
      assert.deepEqual(await accounts.listUsers({ afterUsernameKey: null, limit: 10 }), [
        { ...user, roles: ['admin', 'user'] },
      ])
    })

    it('listUsers() returns an empty list when there are no users', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      assert.deepEqual(await accounts.listUsers({ afterUsernameKey: null, limit: 10 }), [])
    })

    it('hasUserWithRole() is true only while some user holds the role', async (t) => {
      const { accounts } = await openStoresForTest(t, openStores)
      assert.equal(await accounts.hasUserWithRole('admin'), false)
      const user = await insertTestUser(accounts, { roles: ['admin', 'user'] })
      assert.equal(await accounts.hasUserWithRole('admin'), true)
      assert.equal(await accounts.hasUserWithRole('adm'), false)
      assert.equal(await accounts.hasUserWithRole('auditor'), false)
      await accounts.replaceRoles(user.id, ['user'], secondsAfterEpoch(1))
      assert.equal(await accounts.hasUserWithRole('admin'), false)
      assert.equal(await accounts.hasUserWithRole('user'), true)
    })
  })
}

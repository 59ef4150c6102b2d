import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import { hashPassword, type Argon2Parameters } from '../passwords/argon2id.ts'
import { createHashLimiter } from '../passwords/hash-limiter.ts'
import { createPasswordHasher } from '../passwords/password-hasher.ts'
import { createPasswordBlocklist } from '../passwords/blocklist.ts'
import { loadCommonPasswords } from '../passwords/common-passwords.ts'
import { createAccounts, normalizeRoles, type Accounts } from './accounts.ts'
import type { AccountStore } from './store.ts'

// Small parameters keep the suite fast; the OWASP floor is enforced by loadConfig, not here.
const fast: Argon2Parameters = { memoryKiB: 1024, passes: 1, parallelism: 1 }
const password = 'correct horse battery staple'

function buildAccounts(store: AccountStore, clock: Clock, parameters: Argon2Parameters = fast) {
  return createAccounts({
    store,
    clock,
    hasher: createPasswordHasher({ parameters, limiter: createHashLimiter({ concurrency: 2, maxQueue: 16 }) }),
    policy: { minLength: 15, maxLength: 256 },
    blocklist: createPasswordBlocklist({ loadCommonPasswords }),
  })
}

/** The accounts module with the two steps its callers add: storing what it prepares. */
function withStorage(accounts: Accounts, store: AccountStore, clock: Clock) {
  return {
    ...accounts,
    async registerUser(input: Parameters<Accounts['prepareUser']>[0]) {
      const user = await accounts.prepareUser(input)
      if ((await store.insertUser(user)) === 'username_taken') throw new TesseraError('username_taken', 'taken')
      return user
    },
    async changePassword(input: Parameters<Accounts['preparePasswordChange']>[0]) {
      const { user, change } = await accounts.preparePasswordChange(input)
      assert.equal(await store.updatePasswordHash(user.id, change, clock.now()), true)
    },
  }
}

function setUp(t: TestContext, parameters: Argon2Parameters = fast) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const accounts = withStorage(buildAccounts(stores.accounts, clock, parameters), stores.accounts, clock)
  return { clock, store: stores.accounts, accounts }
}

function withCode(code: string) {
  return (error: unknown) => error instanceof TesseraError && error.code === code
}

describe('accounts', () => {
  it('registerUser() creates a user that authenticateUser() then returns', async (t) => {
    const { accounts } = setUp(t)
    const user = await accounts.registerUser({ username: 'Alice', password })
    assert.equal(user.username, 'Alice')
    assert.equal(user.usernameKey, 'alice')
    assert.deepEqual(user.roles, ['user'])
    assert.match(user.passwordHash, /^\$argon2id\$/)
    assert.equal((await accounts.authenticateUser({ username: 'alice', password }))?.id, user.id)
    assert.equal((await accounts.authenticateUser({ username: 'ＡＬＩＣＥ', password }))?.id, user.id)
  })

  it('authenticateUser() returns null for an unknown user and for a wrong password alike', async (t) => {
    const { accounts } = setUp(t)
    await accounts.registerUser({ username: 'alice', password })
    assert.equal(await accounts.authenticateUser({ username: 'mallory', password }), null)
    assert.equal(await accounts.authenticateUser({ username: 'alice', password: `${password}!` }), null)
  })

  it('authenticateUser() returns null for a bad username, a lone surrogate or an oversized password', async (t) => {
    const { accounts } = setUp(t)
    await accounts.registerUser({ username: 'alice', password })
    assert.equal(await accounts.authenticateUser({ username: 'a\u200blice', password }), null)
    assert.equal(await accounts.authenticateUser({ username: 'alice', password: `${password}\ud800` }), null)
    assert.equal(await accounts.authenticateUser({ username: 'alice', password: 'x'.repeat(1_000_000) }), null)
  })

  it('authenticateUser() returns null for a disabled account with the right password', async (t) => {
    const { clock, store, accounts } = setUp(t)
    const now = clock.now()
    await store.insertUser({
      id: '4d1c3f5e-0000-4000-8000-000000000001',
      username: 'carol',
      usernameKey: 'carol',
      usernameSkeleton: null,
      passwordHash: await hashPassword(password, fast),
      roles: ['user'],
      disabledAt: now,
      sessionEpoch: 0,
      isPasswordChangeRequired: false,
      createdAt: now,
      updatedAt: now,
    })
    assert.equal(await accounts.authenticateUser({ username: 'carol', password }), null)
  })

  it('authenticateUser() does not trim or case-fold the password', async (t) => {
    const { accounts } = setUp(t)
    const spaced = '  Two  spaces and Trailing 7Q  '
    await accounts.registerUser({ username: 'alice', password: spaced })
    assert.equal(await accounts.authenticateUser({ username: 'alice', password: spaced.trim() }), null)
    assert.equal(await accounts.authenticateUser({ username: 'alice', password: spaced.toLowerCase() }), null)
    assert.equal(await accounts.authenticateUser({ username: 'alice', password: spaced.replace(/ +/g, ' ') }), null)
    assert.notEqual(await accounts.authenticateUser({ username: 'alice', password: spaced }), null)
  })

  it('authenticateUser() accepts the NFD form of a password registered in NFC', async (t) => {
    const { accounts } = setUp(t)
    const composed = '\u00c5ngstr\u00f6m-fa\u00e7ade-na\u00efve-42'
    await accounts.registerUser({ username: 'alice', password: composed })
    assert.notEqual(await accounts.authenticateUser({ username: 'alice', password: composed.normalize('NFD') }), null)
  })

  it('authenticateUser() rehashes with the current parameters when they changed', async (t) => {
    const clock = createManualClock()
    const stores = openSqliteStores(':memory:', clock.now())
    t.after(() => stores.close())
    const before: Argon2Parameters = { memoryKiB: 19456, passes: 1, parallelism: 1 }
    const after: Argon2Parameters = { memoryKiB: 24576, passes: 1, parallelism: 1 }
    const user = await withStorage(buildAccounts(stores.accounts, clock, before), stores.accounts, clock).registerUser({
      username: 'alice',
      password,
    })
    assert.match(user.passwordHash, /\$m=19456,/)
    clock.advanceSeconds(60)
    const upgraded = buildAccounts(stores.accounts, clock, after)
    assert.notEqual(await upgraded.authenticateUser({ username: 'alice', password }), null)
    const stored = await stores.accounts.findUserById(user.id)
    assert.match(stored?.passwordHash ?? '', /^\$argon2id\$v=19\$m=24576,t=1,p=1\$/)
    assert.deepEqual(stored?.updatedAt, clock.now())
    assert.notEqual(await upgraded.authenticateUser({ username: 'alice', password }), null)
  })

  it('authenticateUser() keeps the stored hash when the parameters are unchanged', async (t) => {
    const { store, accounts } = setUp(t)
    const user = await accounts.registerUser({ username: 'alice', password })
    await accounts.authenticateUser({ username: 'alice', password })
    assert.equal((await store.findUserById(user.id))?.passwordHash, user.passwordHash)
  })

  it('authenticateUser() does not rehash after a wrong password', async (t) => {
    const clock = createManualClock()
    const stores = openSqliteStores(':memory:', clock.now())
    t.after(() => stores.close())
    const user = await withStorage(buildAccounts(stores.accounts, clock), stores.accounts, clock).registerUser({
      username: 'alice',
      password,
    })
    const upgraded = buildAccounts(stores.accounts, clock, { ...fast, memoryKiB: 2048 })
    assert.equal(await upgraded.authenticateUser({ username: 'alice', password: 'wrong password entirely' }), null)
    assert.equal((await stores.accounts.findUserById(user.id))?.passwordHash, user.passwordHash)
  })

  it('registerUser() refuses a name whose key is taken with username_taken', async (t) => {
    const { accounts } = setUp(t)
    await accounts.registerUser({ username: 'Alice', password })
    await assert.rejects(accounts.registerUser({ username: 'alice', password }), withCode('username_taken'))
    await assert.rejects(accounts.registerUser({ username: 'ＡＬＩＣＥ', password }), withCode('username_taken'))
  })

  it('registerUser() refuses an invalid username, a short, long or ill-formed password', async (t) => {
    const { accounts } = setUp(t)
    await assert.rejects(accounts.registerUser({ username: 'ad\u200bmin', password }), withCode('invalid_username'))
    const refusals: Array<[string, string]> = [
      ['a'.repeat(14), 'password_too_short'],
      ['a'.repeat(257), 'password_too_long'],
      ['a'.repeat(1025), 'password_too_long'],
      [`${password}\ud800`, 'password_invalid'],
    ]
    for (const [refused, code] of refusals) {
      await assert.rejects(accounts.registerUser({ username: 'alice', password: refused }), withCode(code))
    }
    assert.equal(await accounts.findUserByUsername('alice'), null)
  })

  it('registerUser() stores roles sorted and without duplicates and refuses malformed roles', async (t) => {
    const { accounts } = setUp(t)
    const user = await accounts.registerUser({ username: 'alice', password, roles: ['user', 'admin', 'user'] })
    assert.deepEqual(user.roles, ['admin', 'user'])
    await assert.rejects(
      accounts.registerUser({ username: 'bob', password, roles: ['Admin'] }),
      withCode('validation_failed'),
    )
  })

  it('changePassword() replaces the password after checking the current one', async (t) => {
    const { accounts } = setUp(t)
    const user = await accounts.registerUser({ username: 'alice', password })
    const next = 'a new and different passphrase'
    await accounts.changePassword({ userId: user.id, currentPassword: password, newPassword: next })
    assert.equal(await accounts.authenticateUser({ username: 'alice', password }), null)
    assert.notEqual(await accounts.authenticateUser({ username: 'alice', password: next }), null)
  })

  it('changePassword() refuses a wrong current password with invalid_credentials', async (t) => {
    const { accounts } = setUp(t)
    const user = await accounts.registerUser({ username: 'alice', password })
    await assert.rejects(
      accounts.changePassword({
        userId: user.id,
        currentPassword: 'not the password at all',
        newPassword: 'another passphrase 1',
      }),
      withCode('invalid_credentials'),
    )
    assert.notEqual(await accounts.authenticateUser({ username: 'alice', password }), null)
  })

  it('changePassword() refuses a new password that breaks the policy', async (t) => {
    const { accounts } = setUp(t)
    const user = await accounts.registerUser({ username: 'alice', password })
    await assert.rejects(
      accounts.changePassword({ userId: user.id, currentPassword: password, newPassword: 'short' }),
      withCode('password_too_short'),
    )
  })

  it('normalizeRoles() sorts and deduplicates roles and refuses malformed ones with validation_failed', () => {
    assert.deepEqual(normalizeRoles(['user', 'admin', 'user']), ['admin', 'user'])
    assert.throws(() => normalizeRoles(['has space']), withCode('validation_failed'))
    assert.throws(() => normalizeRoles(['Admin']), withCode('validation_failed'))
  })

  it('preparePasswordChange() hands over the hash it verified, so a concurrent change makes the update fail', async (t) => {
    const { accounts, store, clock } = setUp(t)
    const user = await accounts.registerUser({ username: 'alice', password })
    const first = await accounts.preparePasswordChange({
      userId: user.id,
      currentPassword: password,
      newPassword: 'the first new passphrase',
    })
    const second = await accounts.preparePasswordChange({
      userId: user.id,
      currentPassword: password,
      newPassword: 'the second new passphrase',
    })
    assert.equal(first.change.from, user.passwordHash)
    assert.equal(await store.updatePasswordHash(user.id, first.change, clock.now()), true)
    assert.equal(await store.updatePasswordHash(user.id, second.change, clock.now()), false)
    assert.notEqual(await accounts.authenticateUser({ username: 'alice', password: 'the first new passphrase' }), null)
  })

  it('listUsers() pages by username key', async (t) => {
    const { accounts } = setUp(t)
    for (const username of ['Carol', 'alice', 'Bob']) await accounts.registerUser({ username, password })
    const first = await accounts.listUsers({ after: null, limit: 2 })
    assert.deepEqual(
      first.map((user) => user.username),
      ['alice', 'Bob'],
    )
    const rest = await accounts.listUsers({ after: first.at(-1)?.usernameKey ?? null, limit: 2 })
    assert.deepEqual(
      rest.map((user) => user.username),
      ['Carol'],
    )
  })
})

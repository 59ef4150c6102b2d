/**
 * The SessionStore contract: every backend must pass it. The store holds only token hashes; the
 * strings used here stand for them. Refresh-token families have their own contract
 * (refresh-tokens.ts).
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import {
  buildSessionRecord,
  buildTokenSessionRecord,
  insertTestUser,
  openStoresForTest,
  secondsAfterEpoch,
  type OpenStores,
} from './records.ts'

async function openWithUser(t: TestContext, openStores: OpenStores) {
  const stores = await openStoresForTest(t, openStores)
  const user = await insertTestUser(stores.accounts)
  return { sessions: stores.sessions, accounts: stores.accounts, userId: user.id }
}

export function testSessionStore(openStores: OpenStores): void {
  describe('SessionStore', () => {
    it('insertSession() stores a cookie session that findSessionById() returns field for field', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId, ip: '2001:db8::1', userAgent: 'Mozilla/5.0 (X11) ü' })
      await sessions.insertSession(session)
      assert.deepEqual(await sessions.findSessionById(session.id), session)
    })

    it('recordSessionAuthentication() replaces the authentication time and methods, only by a later one', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId, authenticatedAt: secondsAfterEpoch(0), amr: ['pwd'] })
      await sessions.insertSession(session)
      assert.equal(
        await sessions.recordSessionAuthentication(session.id, secondsAfterEpoch(60), ['pwd', 'otp', 'mfa']),
        true,
      )
      assert.deepEqual(await sessions.findSessionById(session.id), {
        ...session,
        authenticatedAt: secondsAfterEpoch(60),
        amr: ['pwd', 'otp', 'mfa'],
      })
      assert.equal(await sessions.recordSessionAuthentication(session.id, secondsAfterEpoch(30), ['hwk']), true)
      const kept = await sessions.findSessionById(session.id)
      assert.deepEqual([kept?.authenticatedAt, kept?.amr], [secondsAfterEpoch(60), ['pwd', 'otp', 'mfa']])
      assert.equal(await sessions.recordSessionAuthentication('no-such-session', secondsAfterEpoch(90), ['pwd']), false)
    })

    it('insertSession() keeps the user epoch the session started under', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildTokenSessionRecord({ userId, userEpoch: 7 })
      await sessions.insertSession(session)
      assert.equal((await sessions.findSessionById(session.id))?.userEpoch, 7)
      assert.equal((await sessions.listUserSessions(userId))[0]?.userEpoch, 7)
    })

    it('insertSession() stores a token session without a token hash', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildTokenSessionRecord({ userId })
      await sessions.insertSession(session)
      assert.deepEqual(await sessions.findSessionById(session.id), session)
    })

    it('insertSession() refuses a second session with the same id', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId })
      await sessions.insertSession(session)
      await assert.rejects(sessions.insertSession({ ...session, tokenHash: 'another-token-hash' }))
      assert.deepEqual(await sessions.findSessionById(session.id), session)
    })

    it('insertSession() refuses a second session with the same token hash', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      await sessions.insertSession(buildSessionRecord({ userId, tokenHash: 'same-hash' }))
      await assert.rejects(sessions.insertSession(buildSessionRecord({ userId, tokenHash: 'same-hash' })))
    })

    it('findSessionById() returns null for an unknown id', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      await sessions.insertSession(buildSessionRecord({ userId }))
      assert.equal(await sessions.findSessionById('no-such-session'), null)
    })

    it('findSessionByTokenHash() finds the session holding the hash', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId, tokenHash: 'hash-a' })
      await sessions.insertSession(session)
      await sessions.insertSession(buildSessionRecord({ userId, tokenHash: 'hash-b' }))
      assert.deepEqual(await sessions.findSessionByTokenHash('hash-a'), session)
    })

    it('findSessionByTokenHash() returns null for an unknown hash or a session id', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId, tokenHash: 'hash-a' })
      await sessions.insertSession(session)
      assert.equal(await sessions.findSessionByTokenHash('hash-b'), null)
      assert.equal(await sessions.findSessionByTokenHash(session.id), null)
    })

    it('touchSession() moves lastSeenAt forward', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId })
      await sessions.insertSession(session)
      await sessions.touchSession(session.id, secondsAfterEpoch(120))
      assert.deepEqual(await sessions.findSessionById(session.id), { ...session, lastSeenAt: secondsAfterEpoch(120) })
    })

    it('touchSession() never moves lastSeenAt backward', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId, lastSeenAt: secondsAfterEpoch(300) })
      await sessions.insertSession(session)
      await sessions.touchSession(session.id, secondsAfterEpoch(299))
      assert.deepEqual((await sessions.findSessionById(session.id))?.lastSeenAt, secondsAfterEpoch(300))
    })

    it('touchSession() on an unknown id changes nothing and does not fail', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId })
      await sessions.insertSession(session)
      await sessions.touchSession('no-such-session', secondsAfterEpoch(60))
      assert.deepEqual(await sessions.findSessionById(session.id), session)
      assert.equal(await sessions.findSessionById('no-such-session'), null)
    })

    it("listUserSessions() returns only the user's sessions, newest first", async (t) => {
      const { sessions, accounts, userId } = await openWithUser(t, openStores)
      const other = await insertTestUser(accounts)
      const oldest = buildSessionRecord({ userId, createdAt: secondsAfterEpoch(10) })
      const newest = buildSessionRecord({ userId, createdAt: secondsAfterEpoch(30) })
      const middle = buildTokenSessionRecord({ userId, createdAt: secondsAfterEpoch(20) })
      for (const session of [oldest, newest, middle]) await sessions.insertSession(session)
      await sessions.insertSession(buildSessionRecord({ userId: other.id, createdAt: secondsAfterEpoch(40) }))
      assert.deepEqual(await sessions.listUserSessions(userId), [newest, middle, oldest])
    })

    it('listUserSessions() returns an empty list for a user without sessions', async (t) => {
      const { sessions, accounts, userId } = await openWithUser(t, openStores)
      const other = await insertTestUser(accounts)
      await sessions.insertSession(buildSessionRecord({ userId }))
      assert.deepEqual(await sessions.listUserSessions(other.id), [])
    })

    it('deleteSession() deletes the session once', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId })
      const kept = buildSessionRecord({ userId })
      await sessions.insertSession(session)
      await sessions.insertSession(kept)
      assert.equal(await sessions.deleteSession(session.id), true)
      assert.equal(await sessions.findSessionById(session.id), null)
      assert.equal(await sessions.findSessionByTokenHash(session.tokenHash ?? ''), null)
      assert.equal(await sessions.deleteSession(session.id), false)
      assert.deepEqual(await sessions.findSessionById(kept.id), kept)
    })

    it('deleteUserSession() deletes a session of that user', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId })
      await sessions.insertSession(session)
      assert.equal(await sessions.deleteUserSession(userId, session.id), true)
      assert.equal(await sessions.findSessionById(session.id), null)
      assert.equal(await sessions.deleteUserSession(userId, session.id), false)
    })

    it("deleteUserSession() refuses another user's session", async (t) => {
      const { sessions, accounts, userId } = await openWithUser(t, openStores)
      const other = await insertTestUser(accounts)
      const session = buildSessionRecord({ userId: other.id })
      await sessions.insertSession(session)
      assert.equal(await sessions.deleteUserSession(userId, session.id), false)
      assert.deepEqual(await sessions.findSessionById(session.id), session)
    })

    it('deleteUserSessions() keeps the excepted session', async (t) => {
      const { sessions, accounts, userId } = await openWithUser(t, openStores)
      const other = await insertTestUser(accounts)
      const kept = buildSessionRecord({ userId })
      const ended = [buildSessionRecord({ userId }), buildTokenSessionRecord({ userId })]
      const othersSession = buildSessionRecord({ userId: other.id })
      for (const session of [kept, ...ended, othersSession]) await sessions.insertSession(session)
      const deleted = await sessions.deleteUserSessions(userId, kept.id)
      assert.deepEqual([...deleted].sort(), ended.map((session) => session.id).sort())
      assert.deepEqual(await sessions.listUserSessions(userId), [kept])
      assert.deepEqual(await sessions.findSessionById(othersSession.id), othersSession)
    })

    it('deleteUserSessions() without an exception deletes every session of the user', async (t) => {
      const { sessions, accounts, userId } = await openWithUser(t, openStores)
      const other = await insertTestUser(accounts)
      const mine = [buildSessionRecord({ userId }), buildSessionRecord({ userId })]
      const othersSession = buildSessionRecord({ userId: other.id })
      for (const session of [...mine, othersSession]) await sessions.insertSession(session)
      const deleted = await sessions.deleteUserSessions(userId, null)
      assert.deepEqual([...deleted].sort(), mine.map((session) => session.id).sort())
      assert.deepEqual(await sessions.listUserSessions(userId), [])
      assert.deepEqual(await sessions.listUserSessions(other.id), [othersSession])
    })

    it("deleteUserSessions() does not spare another user's session named as the exception", async (t) => {
      const { sessions, accounts, userId } = await openWithUser(t, openStores)
      const other = await insertTestUser(accounts)
      const othersSession = buildSessionRecord({ userId: other.id })
      const mine = buildSessionRecord({ userId })
      await sessions.insertSession(othersSession)
      await sessions.insertSession(mine)
      assert.deepEqual(await sessions.deleteUserSessions(userId, othersSession.id), [mine.id])
      assert.deepEqual(await sessions.findSessionById(othersSession.id), othersSession)
    })

    it('deleteUserSessions() returns an empty list when the user has no other session', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const only = buildSessionRecord({ userId })
      await sessions.insertSession(only)
      assert.deepEqual(await sessions.deleteUserSessions(userId, only.id), [])
      assert.deepEqual(await sessions.findSessionById(only.id), only)
    })

    it('deleteExpiredSessions() deletes sessions idle since before the cutoff', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const idle = buildSessionRecord({ userId, lastSeenAt: secondsAfterEpoch(99) })
      const active = buildSessionRecord({ userId, lastSeenAt: secondsAfterEpoch(101) })
      await sessions.insertSession(idle)
      await sessions.insertSession(active)
      assert.equal(await sessions.deleteExpiredSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)), 1)
      assert.equal(await sessions.findSessionById(idle.id), null)
      assert.deepEqual(await sessions.findSessionById(active.id), active)
    })

    it('deleteExpiredSessions() deletes sessions at or past their absolute expiry', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const expiringAt = (seconds: number) =>
        buildSessionRecord({
          userId,
          lastSeenAt: secondsAfterEpoch(150),
          absoluteExpiresAt: secondsAfterEpoch(seconds),
        })
      const past = expiringAt(199)
      const atNow = expiringAt(200)
      const future = expiringAt(201)
      for (const session of [past, atNow, future]) await sessions.insertSession(session)
      assert.equal(await sessions.deleteExpiredSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)), 2)
      assert.equal(await sessions.findSessionById(past.id), null)
      assert.equal(await sessions.findSessionById(atNow.id), null)
      assert.deepEqual(await sessions.findSessionById(future.id), future)
    })

    it('deleteExpiredSessions() returns 0 when nothing has expired', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const session = buildSessionRecord({ userId, lastSeenAt: secondsAfterEpoch(150) })
      await sessions.insertSession(session)
      assert.equal(await sessions.deleteExpiredSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)), 0)
      assert.deepEqual(await sessions.findSessionById(session.id), session)
    })

    it('countActiveSessions() counts sessions seen after the idle cutoff and not past their absolute expiry', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const build = (lastSeen: number, expires: number) =>
        buildSessionRecord({
          userId,
          lastSeenAt: secondsAfterEpoch(lastSeen),
          absoluteExpiresAt: secondsAfterEpoch(expires),
        })
      const active = [build(150, 500), build(101, 201)]
      const ended = [build(100, 500), build(99, 500), build(150, 200), build(150, 199)]
      for (const session of [...active, ...ended]) await sessions.insertSession(session)
      assert.equal(await sessions.countActiveSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)), 2)
    })

    it('listRecentSessions() lists sessions seen since the instant and not past their expiry, the most recently seen first', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      const build = (lastSeen: number, expires: number) =>
        buildSessionRecord({
          userId,
          lastSeenAt: secondsAfterEpoch(lastSeen),
          absoluteExpiresAt: secondsAfterEpoch(expires),
        })
      const recent = [build(180, 500), build(150, 500), build(100, 201)]
      const others = [build(99, 500), build(190, 200), build(170, 150)]
      for (const session of [...recent, ...others]) await sessions.insertSession(session)
      const listed = await sessions.listRecentSessions(secondsAfterEpoch(100), secondsAfterEpoch(200), 10)
      assert.deepEqual(
        listed.map((session) => session.id),
        recent.map((session) => session.id),
      )
      assert.deepEqual(listed[0], recent[0])
      assert.equal((await sessions.listRecentSessions(secondsAfterEpoch(100), secondsAfterEpoch(200), 2)).length, 2)
      await sessions.touchSession(recent[2]?.id ?? '', secondsAfterEpoch(195))
      assert.equal(
        (await sessions.listRecentSessions(secondsAfterEpoch(190), secondsAfterEpoch(200), 10))[0]?.id,
        recent[2]?.id,
      )
    })

    it('deleteExpiredSessions() deletes every expired session, however many, and keeps the others', async (t) => {
      const { sessions, userId } = await openWithUser(t, openStores)
      // More than a SQLite sweep deletes in one statement.
      const expired = Array.from({ length: 150 }, (_, index) =>
        buildSessionRecord({
          userId,
          lastSeenAt: secondsAfterEpoch(index % 2 === 0 ? 50 : 150),
          absoluteExpiresAt: secondsAfterEpoch(index % 2 === 0 ? 500 : 200),
        }),
      )
      const kept = [
        buildSessionRecord({ userId, lastSeenAt: secondsAfterEpoch(150), absoluteExpiresAt: secondsAfterEpoch(500) }),
      ]
      await Promise.all([...expired, ...kept].map((session) => sessions.insertSession(session)))
      assert.equal(await sessions.deleteExpiredSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)), expired.length)
      assert.equal(await sessions.deleteExpiredSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)), 0)
      assert.equal(await sessions.countActiveSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)), 1)
      assert.deepEqual(await sessions.findSessionById(kept[0]?.id ?? ''), kept[0])
    })

    it('countActiveSessions() follows every insertion and every kind of deletion', async (t) => {
      const { sessions, accounts, userId } = await openWithUser(t, openStores)
      const other = await insertTestUser(accounts, { username: 'other', usernameKey: 'other' })
      const count = () => sessions.countActiveSessions(secondsAfterEpoch(100), secondsAfterEpoch(200))
      const active = (user: string) =>
        buildSessionRecord({
          userId: user,
          lastSeenAt: secondsAfterEpoch(150),
          absoluteExpiresAt: secondsAfterEpoch(500),
        })
      const mine = [active(userId), active(userId), active(userId), active(userId)]
      const theirs = [active(other.id), active(other.id)]
      for (const session of [...mine, ...theirs]) await sessions.insertSession(session)
      await sessions.insertSession(buildSessionRecord({ userId, lastSeenAt: secondsAfterEpoch(50) }))
      assert.equal(await count(), 6)
      assert.equal(await sessions.deleteSession(mine[0]?.id ?? ''), true)
      assert.equal(await count(), 5)
      assert.equal(await sessions.deleteUserSession(userId, mine[1]?.id ?? ''), true)
      assert.equal(await count(), 4)
      assert.equal((await sessions.deleteUserSessions(userId, mine[2]?.id ?? null)).length, 2)
      assert.equal(await count(), 3)
      assert.equal(await sessions.deleteExpiredSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)), 0)
      assert.equal((await sessions.deleteUserSessions(other.id, null)).length, 2)
      assert.equal(await count(), 1)
      await sessions.insertSession(active(other.id))
      assert.equal(await count(), 2)
    })

    it('countActiveSessions() returns 0 without sessions', async (t) => {
      const { sessions } = await openWithUser(t, openStores)
      assert.equal(await sessions.countActiveSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)), 0)
    })
  })
}

/**
 * The RefreshTokenStore contract: every backend must pass it. Rotation is the security-critical
 * step, decided in one atomic call: exactly one presenter of a current token rotates it; a
 * retry of a just-replaced token within the grace window changes nothing; any other earlier
 * token of the family ends the family. The strings used here stand for token hashes.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { Stores } from '../../core/stores.ts'
import {
  buildSessionRecord,
  buildTokenSessionRecord,
  contractEpoch,
  insertTestUser,
  openStoresForTest,
  secondsAfterEpoch,
  type OpenStores,
} from './records.ts'

/** A user with one token session whose family starts with `first`. */
async function openWithFamily(t: TestContext, openStores: OpenStores, first = 'refresh-1') {
  const stores: Stores = await openStoresForTest(t, openStores)
  const user = await insertTestUser(stores.accounts)
  const session = buildTokenSessionRecord({ userId: user.id })
  await stores.sessions.insertSession(session)
  await stores.refreshTokens.insertRefreshToken({ tokenHash: first, sessionId: session.id, issuedAt: contractEpoch })
  return { stores, refreshTokens: stores.refreshTokens, sessions: stores.sessions, session, userId: user.id }
}

/** Rotation at `seconds` after the epoch with a grace window of `graceSeconds`. */
function rotationAt(presentedHash: string, successorHash: string, seconds: number, graceSeconds = 5) {
  return {
    presentedHash,
    successorHash,
    now: secondsAfterEpoch(seconds),
    graceStartsAt: secondsAfterEpoch(seconds - graceSeconds),
  }
}

export function testRefreshTokenStore(openStores: OpenStores): void {
  describe('RefreshTokenStore', () => {
    it('insertRefreshToken() records a current token that findRefreshToken() returns', async (t) => {
      const { refreshTokens, session } = await openWithFamily(t, openStores)
      assert.deepEqual(await refreshTokens.findRefreshToken('refresh-1'), {
        tokenHash: 'refresh-1',
        sessionId: session.id,
        issuedAt: contractEpoch,
        rotatedAt: null,
        successorHash: null,
      })
    })

    it('insertRefreshToken() refuses a hash that is already known', async (t) => {
      const { stores, refreshTokens, userId } = await openWithFamily(t, openStores)
      const other = buildTokenSessionRecord({ userId })
      await stores.sessions.insertSession(other)
      await assert.rejects(
        refreshTokens.insertRefreshToken({ tokenHash: 'refresh-1', sessionId: other.id, issuedAt: contractEpoch }),
      )
    })

    it('insertRefreshToken() refuses a second current token for the same family', async (t) => {
      const { refreshTokens, session } = await openWithFamily(t, openStores)
      await assert.rejects(
        refreshTokens.insertRefreshToken({
          tokenHash: 'refresh-other',
          sessionId: session.id,
          issuedAt: contractEpoch,
        }),
      )
      assert.equal(await refreshTokens.findRefreshToken('refresh-other'), null)
    })

    it('findCurrentRefreshToken() returns the current token of a family only, and null for an unknown session', async (t) => {
      const { refreshTokens, session } = await openWithFamily(t, openStores)
      assert.equal((await refreshTokens.findCurrentRefreshToken(session.id))?.tokenHash, 'refresh-1')
      await refreshTokens.rotateRefreshToken({
        presentedHash: 'refresh-1',
        successorHash: 'refresh-2',
        now: secondsAfterEpoch(10),
        graceStartsAt: secondsAfterEpoch(5),
      })
      assert.deepEqual(await refreshTokens.findCurrentRefreshToken(session.id), {
        tokenHash: 'refresh-2',
        sessionId: session.id,
        issuedAt: secondsAfterEpoch(10),
        rotatedAt: null,
        successorHash: null,
      })
      assert.equal(await refreshTokens.findCurrentRefreshToken('no-such-session'), null)
    })

    it('findRefreshToken() returns null for an unknown hash', async (t) => {
      const { refreshTokens, session } = await openWithFamily(t, openStores)
      assert.equal(await refreshTokens.findRefreshToken('refresh-2'), null)
      assert.equal(await refreshTokens.findRefreshToken(session.id), null)
    })

    it('rotateRefreshToken() rotates a current token and returns the session as it was before', async (t) => {
      const { refreshTokens, sessions, session } = await openWithFamily(t, openStores)
      const rotation = await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60))
      assert.deepEqual(rotation, { outcome: 'rotated', session })
      assert.deepEqual(await refreshTokens.findRefreshToken('refresh-1'), {
        tokenHash: 'refresh-1',
        sessionId: session.id,
        issuedAt: contractEpoch,
        rotatedAt: secondsAfterEpoch(60),
        successorHash: 'refresh-2',
      })
      assert.deepEqual(await refreshTokens.findRefreshToken('refresh-2'), {
        tokenHash: 'refresh-2',
        sessionId: session.id,
        issuedAt: secondsAfterEpoch(60),
        rotatedAt: null,
        successorHash: null,
      })
      assert.deepEqual(await sessions.findSessionById(session.id), { ...session, lastSeenAt: secondsAfterEpoch(60) })
    })

    it('rotateRefreshToken() accepts the successor for the next rotation', async (t) => {
      const { refreshTokens, session } = await openWithFamily(t, openStores)
      await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60))
      const second = await refreshTokens.rotateRefreshToken(rotationAt('refresh-2', 'refresh-3', 120))
      assert.equal(second.outcome, 'rotated')
      assert.equal((await refreshTokens.findRefreshToken('refresh-3'))?.rotatedAt, null)
      assert.equal((await refreshTokens.findRefreshToken('refresh-2'))?.successorHash, 'refresh-3')
      assert.equal((await refreshTokens.findRefreshToken('refresh-3'))?.sessionId, session.id)
    })

    it('rotateRefreshToken() never moves lastSeenAt backward', async (t) => {
      const { stores, refreshTokens } = await openWithFamily(t, openStores)
      const user = await insertTestUser(stores.accounts)
      const session = buildTokenSessionRecord({ userId: user.id, lastSeenAt: secondsAfterEpoch(300) })
      await stores.sessions.insertSession(session)
      await refreshTokens.insertRefreshToken({ tokenHash: 'late-1', sessionId: session.id, issuedAt: contractEpoch })
      await refreshTokens.rotateRefreshToken(rotationAt('late-1', 'late-2', 200))
      assert.deepEqual((await stores.sessions.findSessionById(session.id))?.lastSeenAt, secondsAfterEpoch(300))
    })

    it('rotateRefreshToken() answers grace to a retry with the same successor inside the window and changes nothing', async (t) => {
      const { refreshTokens, sessions, session } = await openWithFamily(t, openStores)
      await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60))
      const stored = await sessions.findSessionById(session.id)
      const retry = await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 64.999))
      assert.deepEqual(retry, { outcome: 'grace', session: stored })
      assert.equal((await refreshTokens.findRefreshToken('refresh-2'))?.rotatedAt, null)
      assert.deepEqual(await sessions.findSessionById(session.id), stored)
    })

    it('rotateRefreshToken() treats a repeat at the end of the grace window as reuse and ends the family', async (t) => {
      const { refreshTokens, sessions, session } = await openWithFamily(t, openStores)
      await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60))
      const stored = await sessions.findSessionById(session.id)
      const replay = await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 65))
      assert.deepEqual(replay, { outcome: 'reused', session: stored })
      assert.equal(await sessions.findSessionById(session.id), null)
      assert.equal(await refreshTokens.findRefreshToken('refresh-1'), null)
      assert.equal(await refreshTokens.findRefreshToken('refresh-2'), null)
      assert.deepEqual(await refreshTokens.rotateRefreshToken(rotationAt('refresh-2', 'refresh-3', 66)), {
        outcome: 'missing',
      })
    })

    it('rotateRefreshToken() treats a repeat inside the window with another successor as reuse', async (t) => {
      const { refreshTokens, sessions, session } = await openWithFamily(t, openStores)
      await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60))
      const replay = await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-other', 61))
      assert.equal(replay.outcome, 'reused')
      assert.equal(await sessions.findSessionById(session.id), null)
    })

    it('rotateRefreshToken() treats a repeat inside the window as reuse once the successor has been rotated', async (t) => {
      const { refreshTokens, sessions, session } = await openWithFamily(t, openStores)
      await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60))
      await refreshTokens.rotateRefreshToken(rotationAt('refresh-2', 'refresh-3', 61))
      const replay = await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 62))
      assert.equal(replay.outcome, 'reused')
      assert.equal(await sessions.findSessionById(session.id), null)
      assert.equal(await refreshTokens.findRefreshToken('refresh-3'), null)
    })

    it('rotateRefreshToken() detects reuse of any earlier token of the family, not only the last one', async (t) => {
      const { refreshTokens, sessions, session } = await openWithFamily(t, openStores)
      let seconds = 60
      for (const [presented, successor] of [
        ['refresh-1', 'refresh-2'],
        ['refresh-2', 'refresh-3'],
        ['refresh-3', 'refresh-4'],
      ] as const) {
        assert.equal(
          (await refreshTokens.rotateRefreshToken(rotationAt(presented, successor, seconds))).outcome,
          'rotated',
        )
        seconds += 600
      }
      const replay = await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', seconds))
      assert.equal(replay.outcome, 'reused')
      assert.equal(await sessions.findSessionById(session.id), null)
      assert.equal(await refreshTokens.findRefreshToken('refresh-4'), null)
    })

    it('rotateRefreshToken() with a zero grace window treats every repeat as reuse', async (t) => {
      const { refreshTokens } = await openWithFamily(t, openStores)
      await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60, 0))
      const replay = await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60, 0))
      assert.equal(replay.outcome, 'reused')
    })

    it('rotateRefreshToken() ends only the family of the reused token', async (t) => {
      const { stores, refreshTokens, sessions, session, userId } = await openWithFamily(t, openStores)
      const sibling = buildTokenSessionRecord({ userId })
      await sessions.insertSession(sibling)
      await refreshTokens.insertRefreshToken({ tokenHash: 'sibling-1', sessionId: sibling.id, issuedAt: contractEpoch })
      const cookieSession = buildSessionRecord({ userId })
      await stores.sessions.insertSession(cookieSession)
      await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60))
      await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 600))
      assert.equal(await sessions.findSessionById(session.id), null)
      assert.deepEqual(await sessions.findSessionById(sibling.id), sibling)
      assert.deepEqual(await sessions.findSessionById(cookieSession.id), cookieSession)
      assert.equal(
        (await refreshTokens.rotateRefreshToken(rotationAt('sibling-1', 'sibling-2', 601))).outcome,
        'rotated',
      )
    })

    it('rotateRefreshToken() lets exactly one of many concurrent presenters of a token rotate it', async (t) => {
      const { refreshTokens, sessions, session } = await openWithFamily(t, openStores)
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60))),
      )
      assert.equal(outcomes.filter((rotation) => rotation.outcome === 'rotated').length, 1)
      assert.equal(outcomes.filter((rotation) => rotation.outcome === 'grace').length, 19)
      assert.notEqual(await sessions.findSessionById(session.id), null)
    })

    it('rotateRefreshToken() reports missing for an unknown token and changes nothing', async (t) => {
      const { refreshTokens, sessions, session } = await openWithFamily(t, openStores)
      assert.deepEqual(await refreshTokens.rotateRefreshToken(rotationAt('refresh-unknown', 'refresh-2', 60)), {
        outcome: 'missing',
      })
      assert.deepEqual(await sessions.findSessionById(session.id), session)
      assert.equal((await refreshTokens.findRefreshToken('refresh-1'))?.rotatedAt, null)
      assert.equal(await refreshTokens.findRefreshToken('refresh-2'), null)
    })

    it('rotateRefreshToken() does not take a cookie token hash for a refresh token', async (t) => {
      const { stores, refreshTokens, userId } = await openWithFamily(t, openStores)
      const cookieSession = buildSessionRecord({ userId, tokenHash: 'cookie-hash' })
      await stores.sessions.insertSession(cookieSession)
      assert.deepEqual(await refreshTokens.rotateRefreshToken(rotationAt('cookie-hash', 'refresh-2', 60)), {
        outcome: 'missing',
      })
      assert.deepEqual(await stores.sessions.findSessionById(cookieSession.id), cookieSession)
    })

    it('deleting a session deletes its whole family', async (t) => {
      const { refreshTokens, sessions, session } = await openWithFamily(t, openStores)
      await refreshTokens.rotateRefreshToken(rotationAt('refresh-1', 'refresh-2', 60))
      assert.equal(await sessions.deleteSession(session.id), true)
      assert.equal(await refreshTokens.findRefreshToken('refresh-1'), null)
      assert.equal(await refreshTokens.findRefreshToken('refresh-2'), null)
      assert.deepEqual(await refreshTokens.rotateRefreshToken(rotationAt('refresh-2', 'refresh-3', 90)), {
        outcome: 'missing',
      })
    })

    it('deleteExpiredSessions() takes the families of expired sessions with them', async (t) => {
      const { refreshTokens, sessions } = await openWithFamily(t, openStores)
      assert.equal(await sessions.deleteExpiredSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)), 1)
      assert.equal(await refreshTokens.findRefreshToken('refresh-1'), null)
    })
  })
}

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import type { UserRecord } from '../accounts/store.ts'
import { createAttemptedUsernames } from '../audit/attempted-username.ts'
import { createAudit } from '../audit/audit.ts'
import { TesseraError } from '../errors.ts'
import { silentObserver } from '../observer.ts'
import { hashToken } from '../secrets.ts'
import { createRefreshTokens } from '../tokens/refresh-tokens.ts'
import type { AuditEventRecord } from '../audit/events.ts'
import { createUnitOfWork } from '../unit-of-work.ts'
import { createSessions, type SessionSettings } from './sessions.ts'

const settings: SessionSettings = {
  idleTimeoutSeconds: 600,
  absoluteTimeoutSeconds: 3600,
  cacheTtlSeconds: 5,
  limits: {},
}
const client = { ip: '192.0.2.7', userAgent: 'sessions-test' }
const context = { ...client, requestId: null }

async function setUp(t: TestContext, overrides: Partial<SessionSettings> = {}) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const user: UserRecord = {
    id: randomUUID(),
    username: 'alice',
    usernameKey: 'alice',
    usernameSkeleton: null,
    passwordHash: '$argon2id$stand-in',
    roles: ['user'],
    disabledAt: null,
    sessionEpoch: 0,
    isPasswordChangeRequired: false,
    createdAt: clock.now(),
    updatedAt: clock.now(),
  }
  await stores.accounts.insertUser(user)
  const events: AuditEventRecord[] = []
  const audit = createAudit({
    store: stores.audit,
    clock,
    nodeId: 'test-node',
    observer: { ...silentObserver, auditEventRecorded: (event) => void events.push(event) },
    usernames: createAttemptedUsernames({ secret: new Uint8Array(32), accounts: stores.accounts }),
  })
  const refreshTokens = createRefreshTokens({
    store: stores.refreshTokens,
    clock,
    secret: new Uint8Array(32).fill(7),
    settings: { refreshGraceSeconds: 5 },
  })
  const sessions = createSessions({
    sessionStore: stores.sessions,
    accountStore: stores.accounts,
    refreshTokens,
    clock,
    revokedSessionStore: stores.revokedSessions,
    settings: { ...settings, ...overrides },
    audit,
  })
  const unitOfWork = createUnitOfWork({ stores, audit })
  return {
    clock,
    stores,
    sessions,
    user,
    events: { reused: () => events.filter((event) => event.type === 'refresh_token_reused') },
    unitOfWork,
  }
}

function isInvalidGrant(error: unknown): boolean {
  return error instanceof TesseraError && error.code === 'invalid_grant'
}

describe('sessions', () => {
  it('startSession() gives a cookie session a 256-bit token and stores only its hash', async (t) => {
    const { stores, sessions, user } = await setUp(t)
    const started = await sessions.startSession({ user, transport: 'cookie', ...client })
    assert.ok(started.sessionToken)
    assert.equal(Buffer.from(started.sessionToken, 'base64url').length, 32)
    assert.equal(started.refreshToken, null)
    const stored = await stores.sessions.findSessionById(started.session.id)
    assert.equal(stored?.tokenHash, hashToken(started.sessionToken))
    assert.notEqual(started.session.id, started.sessionToken)
  })

  it('resolveSessionToken() returns the session and its user for a live token', async (t) => {
    const { sessions, user } = await setUp(t)
    const { session, sessionToken } = await sessions.startSession({ user, transport: 'cookie', ...client })
    const active = await sessions.resolveSessionToken(sessionToken ?? '')
    assert.equal(active?.session.id, session.id)
    assert.equal(active?.user.id, user.id)
  })

  it('resolveSessionToken() returns null for an unknown token', async (t) => {
    const { sessions, user } = await setUp(t)
    await sessions.startSession({ user, transport: 'cookie', ...client })
    assert.equal(await sessions.resolveSessionToken('not-a-session-token'), null)
  })

  it('resolveSessionId() accepts live sessions of both transports, and no ended one', async (t) => {
    const { sessions, user, unitOfWork } = await setUp(t)
    const cookie = await sessions.startSession({ user, transport: 'cookie', ...client })
    const token = await sessions.startSession({ user, transport: 'token', ...client })
    assert.equal((await sessions.resolveSessionId(token.session.id))?.session.id, token.session.id)
    assert.equal((await sessions.resolveSessionId(cookie.session.id))?.session.id, cookie.session.id)
    await unitOfWork.run((change) => sessions.endSessionsIn(change, [cookie.session], 'logout'))
    assert.equal(await sessions.resolveSessionId(cookie.session.id), null)
    assert.equal((await sessions.resolveSessionId(token.session.id))?.session.id, token.session.id)
    assert.equal(await sessions.resolveSessionId('no-such-session'), null)
  })

  it('resolveSessionId() refuses a cookie session ended in the durable store, even with its record left behind', async (t) => {
    const { clock, stores, sessions, user } = await setUp(t)
    const cookie = await sessions.startSession({ user, transport: 'cookie', ...client })
    assert.notEqual(await sessions.resolveSessionId(cookie.session.id), null)
    // The epoch moves on in the durable store; the session record stays, as after a failed tidy-up.
    await stores.accounts.advanceSessionEpoch(user.id, clock.now())
    sessions.forgetUser(user.id)
    assert.notEqual(await stores.sessions.findSessionById(cookie.session.id), null)
    assert.equal(await sessions.resolveSessionId(cookie.session.id), null)
  })

  it('the idle timeout slides with activity', async (t) => {
    const { clock, sessions, user } = await setUp(t)
    const { sessionToken } = await sessions.startSession({ user, transport: 'cookie', ...client })
    for (let step = 0; step < 5; step += 1) {
      clock.advanceSeconds(500)
      assert.notEqual(await sessions.resolveSessionToken(sessionToken ?? ''), null, `step ${step}`)
    }
  })

  it('a session unused for the idle timeout ends and is deleted', async (t) => {
    const { clock, stores, sessions, user } = await setUp(t)
    const { session, sessionToken } = await sessions.startSession({ user, transport: 'cookie', ...client })
    clock.advanceSeconds(599)
    assert.notEqual(await sessions.resolveSessionToken(sessionToken ?? ''), null)
    clock.advanceSeconds(600)
    assert.equal(await sessions.resolveSessionToken(sessionToken ?? ''), null)
    assert.equal(await stores.sessions.findSessionById(session.id), null)
  })

  it('activity does not extend the absolute timeout', async (t) => {
    const { clock, sessions, user } = await setUp(t)
    const { sessionToken } = await sessions.startSession({ user, transport: 'cookie', ...client })
    for (let elapsed = 500; elapsed < 3600; elapsed += 500) {
      clock.advanceSeconds(500)
      assert.notEqual(await sessions.resolveSessionToken(sessionToken ?? ''), null, `at ${elapsed}s`)
    }
    clock.advanceSeconds(99)
    assert.notEqual(await sessions.resolveSessionToken(sessionToken ?? ''), null, 'at 3599s')
    clock.advanceSeconds(1)
    assert.equal(await sessions.resolveSessionToken(sessionToken ?? ''), null, 'at 3600s')
  })

  it('endSessionsIn() ends a session at once, even a cached one', async (t) => {
    const { sessions, user, unitOfWork } = await setUp(t)
    const { session, sessionToken } = await sessions.startSession({ user, transport: 'cookie', ...client })
    assert.notEqual(await sessions.resolveSessionToken(sessionToken ?? ''), null)
    await unitOfWork.run((change) => sessions.endSessionsIn(change, [session], 'logout'))
    assert.equal(await sessions.resolveSessionToken(sessionToken ?? ''), null)
  })

  it('endSessionsIn() ends only the sessions named and keeps the others', async (t) => {
    const { sessions, user, unitOfWork } = await setUp(t)
    const kept = await sessions.startSession({ user, transport: 'cookie', ...client })
    const ended = await sessions.startSession({ user, transport: 'token', ...client })
    assert.notEqual(await sessions.resolveSessionId(ended.session.id), null)
    await unitOfWork.run((change) => sessions.endSessionsIn(change, [ended.session], 'logout'))
    assert.equal(await sessions.resolveSessionId(ended.session.id), null)
    assert.notEqual(await sessions.resolveSessionToken(kept.sessionToken ?? ''), null)
    assert.deepEqual(
      (await sessions.listLiveSessions(user.id)).map((session) => session.id),
      [kept.session.id],
    )
  })

  it('a session ended in the durable store stays ended when deleting its record fails afterwards', async (t) => {
    const { stores, sessions, user, unitOfWork } = await setUp(t)
    const { session, sessionToken } = await sessions.startSession({ user, transport: 'cookie', ...client })
    const deleteUserSession = stores.sessions.deleteUserSession
    // The hot store (Redis, in scale-out) fails right after the end is committed.
    stores.sessions.deleteUserSession = async () => {
      throw new TesseraError('service_unavailable', 'gone')
    }
    await assert.rejects(
      unitOfWork.run((change) => sessions.endSessionsIn(change, [session], 'logout')),
      { code: 'service_unavailable' },
    )
    stores.sessions.deleteUserSession = deleteUserSession
    assert.notEqual(await stores.sessions.findSessionById(session.id), null, 'the record is still there')
    assert.equal(await sessions.resolveSessionToken(sessionToken ?? ''), null)
    assert.deepEqual(await sessions.listLiveSessions(user.id), [])
    assert.equal(await stores.sessions.findSessionById(session.id), null, 'and is tidied when next presented')
  })

  it('endAllSessionsIn() ends every session of the user, even one whose record it could not delete', async (t) => {
    const { stores, sessions, user, unitOfWork } = await setUp(t)
    const cookie = await sessions.startSession({ user, transport: 'cookie', ...client })
    const token = await sessions.startSession({ user, transport: 'token', ...client })
    stores.sessions.deleteUserSessions = async () => {
      throw new TesseraError('service_unavailable', 'gone')
    }
    await assert.rejects(
      unitOfWork.run((change) => sessions.endAllSessionsIn(change, user.id, 'password_change')),
      { code: 'service_unavailable' },
    )
    assert.equal(await sessions.resolveSessionToken(cookie.sessionToken ?? ''), null)
    assert.equal(await sessions.resolveSessionId(token.session.id), null)
    await assert.rejects(sessions.rotateRefreshToken(token.refreshToken ?? '', context), isInvalidGrant)
    const updated = await stores.accounts.findUserById(user.id)
    const next = await sessions.startSession({ user: updated ?? user, transport: 'cookie', ...client })
    assert.notEqual(
      await sessions.resolveSessionToken(next.sessionToken ?? ''),
      null,
      'a session under the new epoch lives',
    )
  })

  it('a session started under an epoch that moved on meanwhile is refused (a sign-in racing a password change)', async (t) => {
    const { stores, sessions, user, unitOfWork, clock } = await setUp(t)
    await unitOfWork.run(async (change) => {
      await change.stores.accounts.advanceSessionEpoch(user.id, clock.now())
    })
    // `user` was read before the epoch moved, as a slow sign-in would have it.
    const late = await sessions.startSession({ user, transport: 'token', ...client })
    assert.equal(await sessions.resolveSessionId(late.session.id), null)
    assert.equal(await stores.sessions.findSessionById(late.session.id), null)
  })

  it('a deletion made outside this module is seen once the cache entry expires', async (t) => {
    const { clock, stores, sessions, user } = await setUp(t)
    const { session, sessionToken } = await sessions.startSession({ user, transport: 'cookie', ...client })
    assert.notEqual(await sessions.resolveSessionToken(sessionToken ?? ''), null)
    await stores.sessions.deleteSession(session.id)
    assert.notEqual(await sessions.resolveSessionToken(sessionToken ?? ''), null, 'still cached')
    clock.advanceSeconds(settings.cacheTtlSeconds)
    assert.equal(await sessions.resolveSessionToken(sessionToken ?? ''), null)
  })

  it('with a cache TTL of 0 a deletion made elsewhere is seen at once', async (t) => {
    const { stores, sessions, user } = await setUp(t, { cacheTtlSeconds: 0 })
    const { session, sessionToken } = await sessions.startSession({ user, transport: 'cookie', ...client })
    assert.notEqual(await sessions.resolveSessionToken(sessionToken ?? ''), null)
    await stores.sessions.deleteSession(session.id)
    assert.equal(await sessions.resolveSessionToken(sessionToken ?? ''), null)
  })

  it('rotateRefreshToken() replaces the refresh token and keeps the session', async (t) => {
    const { clock, stores, sessions, user } = await setUp(t)
    const started = await sessions.startSession({ user, transport: 'token', ...client })
    clock.advanceSeconds(60)
    const rotated = await sessions.rotateRefreshToken(started.refreshToken ?? '', context)
    assert.notEqual(rotated.refreshToken, started.refreshToken)
    assert.equal(rotated.active.session.id, started.session.id)
    const stored = await stores.sessions.findSessionById(started.session.id)
    assert.equal((await stores.refreshTokens.findRefreshToken(hashToken(rotated.refreshToken)))?.rotatedAt, null)
    assert.deepEqual(stored?.lastSeenAt, clock.now())
    const again = await sessions.rotateRefreshToken(rotated.refreshToken, context)
    assert.equal(again.active.session.id, started.session.id)
  })

  it('rotateRefreshToken() gives a retry within the grace window the same successor', async (t) => {
    const { clock, sessions, user, events } = await setUp(t)
    const started = await sessions.startSession({ user, transport: 'token', ...client })
    const rotated = await sessions.rotateRefreshToken(started.refreshToken ?? '', context)
    clock.advanceSeconds(4)
    const retried = await sessions.rotateRefreshToken(started.refreshToken ?? '', context)
    assert.equal(retried.refreshToken, rotated.refreshToken)
    assert.equal(retried.active.session.id, started.session.id)
    assert.deepEqual(events.reused(), [])
    const next = await sessions.rotateRefreshToken(rotated.refreshToken, context)
    assert.notEqual(next.refreshToken, rotated.refreshToken)
  })

  it('presenting a replaced refresh token after the grace window ends the session and records the reuse', async (t) => {
    const { clock, stores, sessions, user, events } = await setUp(t)
    const started = await sessions.startSession({ user, transport: 'token', ...client })
    const rotated = await sessions.rotateRefreshToken(started.refreshToken ?? '', context)
    assert.notEqual(await sessions.resolveSessionId(started.session.id), null)
    clock.advanceSeconds(5)
    await assert.rejects(sessions.rotateRefreshToken(started.refreshToken ?? '', context), isInvalidGrant)
    assert.deepEqual(
      events.reused().map((event) => [event.subjectUserId, event.sessionId]),
      [[user.id, started.session.id]],
    )
    assert.equal(await stores.sessions.findSessionById(started.session.id), null)
    assert.equal(await sessions.resolveSessionId(started.session.id), null)
    await assert.rejects(sessions.rotateRefreshToken(rotated.refreshToken, context), isInvalidGrant)
  })

  it('presenting a replaced refresh token ends the session for every holder', async (t) => {
    const { clock, stores, sessions, user } = await setUp(t)
    const started = await sessions.startSession({ user, transport: 'token', ...client })
    const rotated = await sessions.rotateRefreshToken(started.refreshToken ?? '', context)
    assert.notEqual(await sessions.resolveSessionId(started.session.id), null)
    clock.advanceSeconds(60)
    await assert.rejects(sessions.rotateRefreshToken(started.refreshToken ?? '', context), isInvalidGrant)
    assert.equal(await stores.sessions.findSessionById(started.session.id), null)
    assert.equal(await sessions.resolveSessionId(started.session.id), null)
    await assert.rejects(sessions.rotateRefreshToken(rotated.refreshToken, context), isInvalidGrant)
  })

  it('rotateRefreshToken() refuses an unknown token with invalid_grant', async (t) => {
    const { sessions, user } = await setUp(t)
    const started = await sessions.startSession({ user, transport: 'token', ...client })
    await assert.rejects(sessions.rotateRefreshToken('unknown-refresh-token', context), isInvalidGrant)
    assert.notEqual(await sessions.resolveSessionId(started.session.id), null)
  })

  it('rotateRefreshToken() refuses the token of a session past its idle timeout', async (t) => {
    const { clock, sessions, user } = await setUp(t)
    const started = await sessions.startSession({ user, transport: 'token', ...client })
    clock.advanceSeconds(600)
    await assert.rejects(sessions.rotateRefreshToken(started.refreshToken ?? '', context), isInvalidGrant)
  })

  it('rotateRefreshToken() refuses the token of a session past its absolute timeout', async (t) => {
    const { clock, sessions, user } = await setUp(t)
    let { refreshToken } = await sessions.startSession({ user, transport: 'token', ...client })
    for (let elapsed = 500; elapsed < 3600; elapsed += 500) {
      clock.advanceSeconds(500)
      refreshToken = (await sessions.rotateRefreshToken(refreshToken ?? '', context)).refreshToken
    }
    clock.advanceSeconds(100)
    await assert.rejects(sessions.rotateRefreshToken(refreshToken ?? '', context), isInvalidGrant)
  })

  it('deleteExpiredSessions() removes idle sessions and keeps live ones', async (t) => {
    const { clock, stores, sessions, user } = await setUp(t)
    const idle = await sessions.startSession({ user, transport: 'cookie', ...client })
    clock.advanceSeconds(300)
    const live = await sessions.startSession({ user, transport: 'cookie', ...client })
    clock.advanceSeconds(301)
    assert.equal(await sessions.deleteExpiredSessions(), 1)
    assert.equal(await stores.sessions.findSessionById(idle.session.id), null)
    assert.notEqual(await stores.sessions.findSessionById(live.session.id), null)
  })
})

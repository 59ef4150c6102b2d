import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { hashToken } from '../secrets.ts'
import { createRefreshTokens, deriveSuccessorToken } from './refresh-tokens.ts'

const secret = Uint8Array.from({ length: 32 }, (_, index) => index)

async function setUp(t: TestContext, refreshGraceSeconds = 5) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const userId = randomUUID()
  await stores.accounts.insertUser({
    id: userId,
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
  })
  const session = {
    id: 'session-1',
    tokenHash: null,
    userId,
    userEpoch: 0,
    transport: 'token' as const,
    createdAt: clock.now(),
    lastSeenAt: clock.now(),
    absoluteExpiresAt: new Date(clock.now().getTime() + 86_400_000),
    ip: '192.0.2.1',
    userAgent: 'test',
    authenticatedAt: clock.now(),
    amr: ['pwd'],
  }
  await stores.sessions.insertSession(session)
  const refreshTokens = createRefreshTokens({
    store: stores.refreshTokens,
    clock,
    secret,
    settings: { refreshGraceSeconds },
  })
  return { clock, stores, refreshTokens, session }
}

describe('refresh tokens', () => {
  it('deriveSuccessorToken() is HMAC-SHA-256 of the token under the secret, base64url (fixed vectors)', () => {
    assert.equal(deriveSuccessorToken(secret, 'first-refresh-token'), 'vhfiWgvLlN7I0eJypzRyAOpK1ioesSCGHG8ANkcb0UQ')
    assert.equal(deriveSuccessorToken(secret, ''), '04tCCW2A9F-Ca0Sp1WB95ySWpBXT9KGoyI47udqNwcs')
  })

  it('deriveSuccessorToken() gives another successor under another secret or for another token', () => {
    const other = new Uint8Array(32).fill(1)
    assert.notEqual(
      deriveSuccessorToken(other, 'first-refresh-token'),
      deriveSuccessorToken(secret, 'first-refresh-token'),
    )
    assert.notEqual(
      deriveSuccessorToken(secret, 'first-refresh-tokeN'),
      deriveSuccessorToken(secret, 'first-refresh-token'),
    )
  })

  it('createRefreshTokens() refuses a secret shorter than 32 bytes at startup', (t) => {
    const stores = openSqliteStores(':memory:', new Date())
    t.after(() => stores.close())
    const build = (length: number) => () =>
      createRefreshTokens({
        store: stores.refreshTokens,
        clock: createManualClock(),
        secret: new Uint8Array(length),
        settings: { refreshGraceSeconds: 5 },
      })
    assert.throws(build(31), TypeError)
    assert.doesNotThrow(build(32))
  })

  it('startFamily() returns a 256-bit token and stores only its hash', async (t) => {
    const { stores, refreshTokens, session } = await setUp(t)
    const token = await refreshTokens.startFamily(session.id)
    assert.equal(Buffer.from(token, 'base64url').length, 32)
    assert.equal((await stores.refreshTokens.findRefreshToken(hashToken(token)))?.sessionId, session.id)
    assert.equal(await stores.refreshTokens.findRefreshToken(token), null)
  })

  it('rotateRefreshToken() returns the derived successor, and the same one for a retry in the window', async (t) => {
    const { clock, refreshTokens, session } = await setUp(t)
    const first = await refreshTokens.startFamily(session.id)
    const rotated = await refreshTokens.rotateRefreshToken(first)
    assert.equal(rotated.outcome, 'rotated')
    const successor = rotated.outcome === 'rotated' ? rotated.refreshToken : ''
    assert.equal(successor, deriveSuccessorToken(secret, first))
    clock.advanceSeconds(4.9)
    const retried = await refreshTokens.rotateRefreshToken(first)
    assert.deepEqual(retried.outcome === 'grace' ? retried.refreshToken : null, successor)
  })

  it('rotateRefreshToken() reports reuse at the end of the window', async (t) => {
    const { clock, refreshTokens, session } = await setUp(t)
    const first = await refreshTokens.startFamily(session.id)
    await refreshTokens.rotateRefreshToken(first)
    clock.advanceSeconds(5)
    const replay = await refreshTokens.rotateRefreshToken(first)
    assert.equal(replay.outcome, 'reused')
    assert.equal(replay.outcome === 'reused' ? replay.session.id : null, session.id)
  })

  it('rotateRefreshToken() reports missing for a token it never issued', async (t) => {
    const { refreshTokens, session } = await setUp(t)
    const first = await refreshTokens.startFamily(session.id)
    assert.deepEqual(await refreshTokens.rotateRefreshToken(deriveSuccessorToken(secret, first)), {
      outcome: 'missing',
    })
    assert.deepEqual(await refreshTokens.rotateRefreshToken(`${first}x`), { outcome: 'missing' })
  })

  it('findRefreshToken() finds current and replaced members by the token itself', async (t) => {
    const { refreshTokens, session } = await setUp(t)
    const first = await refreshTokens.startFamily(session.id)
    const rotated = await refreshTokens.rotateRefreshToken(first)
    const successor = rotated.outcome === 'rotated' ? rotated.refreshToken : ''
    assert.notEqual((await refreshTokens.findRefreshToken(first))?.rotatedAt, null)
    assert.equal((await refreshTokens.findRefreshToken(successor))?.rotatedAt, null)
    assert.equal(await refreshTokens.findRefreshToken('never-issued'), null)
  })
})

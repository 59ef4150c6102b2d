/**
 * `tessera/client` in Node against a real Tessera over HTTP: sign-in, typed errors, refresh that
 * is single-flight and shared between clients of one storage, a lost refresh answer repeated
 * within the grace window, and the session-end event.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import {
  createTesseraClient,
  memoryTokenStorage,
  readSecondFactorChallenge,
  TesseraError,
  type SessionEndEvent,
  type TesseraClient,
  type TesseraClientOptions,
  type TokenStorage,
} from 'tessera/client'
import { enrolTotp } from '../helpers/second-factor.ts'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  type TestServer,
} from '../helpers/test-server.ts'

function clientFor(t: TestContext, server: TestServer, options: Partial<TesseraClientOptions> = {}): TesseraClient {
  const client = createTesseraClient({ baseUrl: server.url, ...options })
  t.after(() => client.close())
  return client
}

async function countRefreshEvents(server: TestServer, userId: string) {
  const page = await server.application.auditTrail.queryEvents(
    { userId, types: ['token_refreshed'] },
    { after: null, limit: 100 },
  )
  const grace = page.events.filter((event) => event.details.grace === true).length
  return { rotations: page.events.length - grace, grace }
}

/** The user's sessions that are alive now, as the user's own session list shows them. */
function liveSessionsOf(server: TestServer, userId: string) {
  return server.application.mySessions.listMySessions({ userId, sessionId: '' })
}

/** Marks the held access token as due for replacement, as if its time had come. */
async function makeStale(storage: TokenStorage): Promise<void> {
  const held = await storage.get()
  assert.ok(held)
  await storage.set({ ...held, refreshAt: 0 })
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<TesseraError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof TesseraError, `expected a TesseraError, got ${String(error)}`)
    assert.equal(error.code, code)
    return error
  }
  assert.fail(`expected ${code}`)
}

describe('tessera/client in Node', () => {
  it('registers, signs in with tokens, reads the account and sessions, and signs out', async (t) => {
    const server = await startTestServer(t)
    const ends: SessionEndEvent[] = []
    const client = clientFor(t, server, { onSessionEnd: (event) => ends.push(event) })
    const user = await client.register({ username: 'Alice_sdk', password: strongPassword })
    assert.equal(user.username, 'Alice_sdk')
    assert.deepEqual(user.roles, ['user'])
    const signedIn = await client.signIn({ username: 'alice_sdk', password: strongPassword })
    assert.equal(signedIn.user.id, user.id)
    assert.deepEqual(await client.me(), signedIn)

    const other = clientFor(t, server)
    await other.signIn({ username: 'alice_sdk', password: strongPassword })
    const sessions = await client.sessions.list()
    assert.equal(sessions.length, 2)
    assert.deepEqual(
      sessions.filter((session) => session.isCurrent).map((session) => session.id),
      [signedIn.sessionId],
    )
    assert.equal(sessions[0]?.transport, 'token')
    assert.equal(await client.sessions.endOthers(), 1)
    assert.equal((await client.sessions.list()).length, 1)

    await client.signOut()
    assert.deepEqual(ends, [{ reason: 'signed_out', sessionId: signedIn.sessionId, isFromOtherTab: false }])
    await rejectsWithCode(client.me(), 'not_signed_in')
    assert.equal((await liveSessionsOf(server, user.id)).length, 0)
  })

  it('throws typed errors built from the problem documents, and network_error when nothing answers', async (t) => {
    const server = await startTestServer(t, { TESSERA_THROTTLE_REGISTER_THRESHOLD: '3' })
    const client = clientFor(t, server)
    const { username } = await registerUser(server)
    const wrong = await rejectsWithCode(
      client.signIn({ username, password: 'not the password at all' }),
      'invalid_credentials',
    )
    assert.equal(wrong.status, 401)
    assert.equal(wrong.title, 'Invalid credentials')
    assert.equal(typeof wrong.detail, 'string')
    assert.equal(wrong.retryAfterSeconds, null)
    assert.equal(wrong.problem?.code, 'invalid_credentials')
    const taken = await rejectsWithCode(client.register({ username, password: strongPassword }), 'username_taken')
    assert.equal(taken.status, 409)
    const invalid = await rejectsWithCode(
      client.register({ username: 'x', password: strongPassword }),
      'invalid_username',
    )
    assert.equal(invalid.status, 400)
    const limited = await rejectsWithCode(
      client.register({ username: 'another_one', password: strongPassword }),
      'rate_limited',
    )
    assert.ok((limited.retryAfterSeconds ?? 0) >= 1)
    await rejectsWithCode(client.tokenFromCookieSession(), 'not_signed_in')

    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const unreachable = createTesseraClient({ baseUrl: `http://127.0.0.1:${port}` })
    t.after(() => unreachable.close())
    const network = await rejectsWithCode(unreachable.signIn({ username, password: strongPassword }), 'network_error')
    assert.equal(network.status, 0)
  })

  it('refreshes once for twenty simultaneous calls with a stale token', async (t) => {
    const server = await startTestServer(t)
    const storage = memoryTokenStorage()
    const client = clientFor(t, server, { storage })
    const { username, id } = await registerUser(server)
    await client.signIn({ username, password: strongPassword })
    const before = await storage.get()
    await makeStale(storage)
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.me()))
    assert.equal(new Set(answers.map((answer) => answer.user.id)).size, 1)
    assert.deepEqual(await countRefreshEvents(server, id), { rotations: 1, grace: 0 })
    const after = await storage.get()
    assert.notEqual(after?.refreshToken, before?.refreshToken)
    assert.notEqual(after?.accessToken, before?.accessToken)
    assert.ok((after?.refreshAt ?? 0) > Date.now())
  })

  it('refreshes once for two clients that share a storage, and both keep working', async (t) => {
    const server = await startTestServer(t)
    const storage = memoryTokenStorage('shared')
    const first = clientFor(t, server, { storage })
    const second = clientFor(t, server, { storage })
    const { username, id } = await registerUser(server)
    await first.signIn({ username, password: strongPassword })
    await makeStale(storage)
    const [one, two] = await Promise.all([first.me(), second.me()])
    assert.equal(one.sessionId, two.sessionId)
    assert.deepEqual(await countRefreshEvents(server, id), { rotations: 1, grace: 0 })
  })

  it('repeats a refresh whose answer was lost, gets the same successor, and the session survives', async (t) => {
    const server = await startTestServer(t)
    let lostAnswers = 0
    const losingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      if (String(input).endsWith('/v1/auth/refresh') && lostAnswers === 0) {
        lostAnswers += 1
        await response.body?.cancel()
        throw new TypeError('fetch failed: the connection closed before the answer')
      }
      return response
    }
    const storage = memoryTokenStorage()
    const client = clientFor(t, server, { storage, fetch: losingFetch })
    const { username, id } = await registerUser(server)
    await client.signIn({ username, password: strongPassword })
    await makeStale(storage)
    await client.me()
    assert.equal(lostAnswers, 1)
    assert.deepEqual(await countRefreshEvents(server, id), { rotations: 1, grace: 1 })
    // Past the grace window the family is still alive: the repeat was no reuse.
    server.clock.advanceSeconds(server.config.tokens.refreshGraceSeconds + 1)
    await makeStale(storage)
    await client.me()
    assert.deepEqual(await countRefreshEvents(server, id), { rotations: 2, grace: 1 })
  })

  it('ends the session once, with an event, when Tessera refuses the refresh after a 401', async (t) => {
    const server = await startTestServer(t)
    const ends: SessionEndEvent[] = []
    const client = clientFor(t, server, { onSessionEnd: (event) => ends.push(event) })
    const { username } = await registerUser(server)
    const signedIn = await client.signIn({ username, password: strongPassword })
    const admin = clientFor(t, server)
    await admin.signIn({ username, password: strongPassword })
    await admin.sessions.end(signedIn.sessionId)
    await rejectsWithCode(client.me(), 'invalid_grant')
    await rejectsWithCode(client.sessions.list(), 'not_signed_in')
    assert.deepEqual(ends, [{ reason: 'refresh_refused', sessionId: signedIn.sessionId, isFromOtherTab: false }])
  })

  it('tells the other clients of a shared storage when the session ends', async (t) => {
    const server = await startTestServer(t)
    const storage = memoryTokenStorage('broadcast')
    const first = clientFor(t, server, { storage })
    const second = clientFor(t, server, { storage })
    const heard = new Promise<SessionEndEvent>((resolve) => second.onSessionEnd(resolve))
    const { username } = await registerUser(server)
    const signedIn = await first.signIn({ username, password: strongPassword })
    await second.me()
    await first.signOut()
    assert.deepEqual(await heard, { reason: 'signed_out', sessionId: signedIn.sessionId, isFromOtherTab: true })
  })

  it('changes the password and carries on with the new session', async (t) => {
    const server = await startTestServer(t)
    const storage = memoryTokenStorage()
    const client = clientFor(t, server, { storage })
    const { username, id } = await registerUser(server)
    const before = await client.signIn({ username, password: strongPassword })
    const oldRefreshToken = (await storage.get())?.refreshToken
    const after = await client.changePassword({
      currentPassword: strongPassword,
      newPassword: 'another long passphrase 77',
    })
    assert.notEqual(after.sessionId, before.sessionId)
    assert.equal((await client.me()).sessionId, after.sessionId)
    assert.notEqual((await storage.get())?.refreshToken, oldRefreshToken)
    assert.deepEqual(
      (await liveSessionsOf(server, id)).map((session) => session.id),
      [after.sessionId],
    )
    await rejectsWithCode(client.tokenFromCookieSession(), 'cookie_session_required')
  })

  it("calls the app's own API with a live bearer token and retries a 401 once with a renewed one", async (t) => {
    const server = await startTestServer(t)
    const seen: string[] = []
    const app = createServer((request, response) => {
      seen.push(request.headers.authorization ?? '')
      response.writeHead(seen.length === 1 ? 401 : 200, { 'content-type': 'application/json' }).end('{}')
    })
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise((resolve) => app.close(resolve)))
    const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/scores`
    const client = clientFor(t, server)
    const { username, id } = await registerUser(server)
    await client.signIn({ username, password: strongPassword })
    const response = await client.fetch(appUrl, {
      method: 'POST',
      body: '{"score":1}',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(response.status, 200)
    assert.equal(seen.length, 2)
    assert.ok(seen.every((value) => value.startsWith('Bearer ey')))
    assert.notEqual(seen[0], seen[1])
    assert.deepEqual(await countRefreshEvents(server, id), { rotations: 1, grace: 0 })
    const tessera = await client.fetch(`${server.url}/v1/me`)
    assert.equal(tessera.status, 200)
  })

  it('finishes a sign-in with a second factor and re-authenticates for a sensitive change, keeping its refresh token', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const totp = await enrolTotp(server, { bearer: (await logInWithToken(server, username)).access_token })
    const storage = memoryTokenStorage()
    const client = clientFor(t, server, { storage })

    const refused = await rejectsWithCode(client.signIn({ username, password: strongPassword }), 'mfa_required')
    const second = readSecondFactorChallenge(refused)
    assert.ok(second, 'an mfa_required refusal carries its challenge')
    assert.deepEqual(second.methods.slice().sort(), ['recovery_code', 'totp'])
    assert.equal(readSecondFactorChallenge(new TesseraError('invalid_credentials', { title: 'x' })), null)
    assert.equal(await storage.get(), null, 'no session is kept before the second step')

    await rejectsWithCode(
      client.completeSignIn({ challenge: second.challenge, code: totp.codeAt() === '000000' ? '111111' : '000000' }),
      'invalid_mfa_code',
    )
    const signedIn = await client.completeSignIn({ challenge: second.challenge, code: totp.codeAt() })
    assert.equal(signedIn.user.username, username)
    assert.equal((await client.me()).sessionId, signedIn.sessionId)

    // Past the step-up age a password change asks for a fresh authentication first.
    server.clock.advanceSeconds(11 * 60)
    const newPassword = `${strongPassword} and more`
    await rejectsWithCode(
      client.changePassword({ currentPassword: strongPassword, newPassword }),
      'reauthentication_required',
    )
    const refreshToken = (await storage.get())?.refreshToken
    assert.ok(refreshToken)
    const renewed = await client.reauthenticate({ recoveryCode: totp.recoveryCodes[0]! })
    assert.ok(renewed.amr.includes('mfa'), `amr ${renewed.amr.join(',')}`)
    assert.equal(renewed.authenticatedAt.getTime(), server.clock.now().getTime())
    assert.equal((await storage.get())?.refreshToken, refreshToken, 'the re-authentication keeps the refresh token')

    await makeStale(storage)
    assert.ok(await client.getAccessToken(), 'the kept refresh token still refreshes')
    const changed = await client.changePassword({ currentPassword: strongPassword, newPassword })
    assert.notEqual(changed.sessionId, signedIn.sessionId)
  })
})

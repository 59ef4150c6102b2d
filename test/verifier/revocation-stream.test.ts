/**
 * The verifier following Tessera's event stream: a logged-out session's token is refused within
 * a second (not at its expiry) and the application is told; while the stream is cut the chosen
 * mode applies (open: accept, closed: refuse), and after reconnecting with Last-Event-ID the
 * events of the cut are replayed.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { EndedSession } from '../../src/verifier/index.ts'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'
import { logInWithToken, registerUser, startTestServer, type TestServer } from '../helpers/test-server.ts'
import { createIntrospectionClient } from '../helpers/token-lifecycle.ts'
import { createTestVerifier } from '../helpers/verifier.ts'

async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const startedAt = performance.now()
  while (!(await condition())) {
    if (performance.now() - startedAt > timeoutMs) throw new Error(`${what} not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return performance.now() - startedAt
}

async function isAccepted(verify: () => Promise<unknown>): Promise<boolean | string> {
  try {
    await verify()
    return true
  } catch (error) {
    return (error as { code: string }).code
  }
}

async function followingVerifier(server: TestServer, streamUrl: string, whenCut: 'open' | 'closed') {
  const client = await createIntrospectionClient(server, `game-${whenCut}`)
  const ended: EndedSession[] = []
  const { verifier } = createTestVerifier(server, {
    revocationStream: {
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      url: streamUrl,
      whenCut,
      onSessionEnded: (session) => void ended.push(session),
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    },
  })
  await verifier.revocationsReady()
  return { verifier, ended }
}

describe('verifier following the event stream', () => {
  it('refuses a token within 1 s of its logout and calls the application back', async (t) => {
    const server = await startTestServer(t, {}, { clockStart: new Date() })
    const { verifier, ended } = await followingVerifier(server, `${server.url}/v1/events/stream`, 'open')
    t.after(() => verifier.close())
    const user = await registerUser(server)
    const { access_token: token, session_id: sessionId } = await logInWithToken(server, user.username)
    assert.equal((await verifier.verifyAccessToken(token)).sessionId, sessionId)
    await server.request('/v1/auth/logout', { method: 'POST', bearer: token })
    const elapsed = await waitUntil(
      async () => (await isAccepted(() => verifier.verifyAccessToken(token))) === 'invalid_token',
      1000,
      'refusal',
    )
    t.diagnostic(`refused ${elapsed.toFixed(1)} ms after the logout answered`)
    assert.deepEqual(ended, [{ sessionId, userId: user.id, reason: 'logout' }])
    // By the header too, where verified tokens are cached.
    await assert.rejects(verifier.authenticateRequest({ headers: { authorization: `Bearer ${token}` } }), {
      code: 'invalid_token',
    })
  })

  for (const whenCut of ['open', 'closed'] as const) {
    it(`fails ${whenCut} while the stream is cut, then replays what it missed`, async (t) => {
      const server = await startTestServer(t, { TESSERA_EVENT_STREAM_HEARTBEAT: '1s' }, { clockStart: new Date() })
      const url = new URL(server.url)
      const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) })
      t.after(() => proxy.close())
      const { verifier, ended } = await followingVerifier(
        server,
        `http://127.0.0.1:${proxy.port}/v1/events/stream`,
        whenCut,
      )
      t.after(() => verifier.close())
      const user = await registerUser(server)
      const kept = await logInWithToken(server, user.username)
      const leaving = await logInWithToken(server, user.username)
      // A first event, so the follower has an id to resume from.
      const first = await logInWithToken(server, user.username)
      await server.request('/v1/auth/logout', { method: 'POST', bearer: first.access_token })
      await waitUntil(() => ended.length === 1, 2000, 'the first event')

      await proxy.refuse()
      await waitUntil(() => !verifier.isFollowingRevocations(), 2000, 'the cut noticed')
      const during = await isAccepted(() => verifier.verifyAccessToken(kept.access_token))
      assert.equal(during, whenCut === 'open' ? true : 'unavailable')
      await server.request('/v1/auth/logout', { method: 'POST', bearer: leaving.access_token })

      await proxy.restore()
      await waitUntil(
        () => ended.some((session) => session.sessionId === leaving.session_id),
        5000,
        'the replayed logout',
      )
      assert.equal(await isAccepted(() => verifier.verifyAccessToken(leaving.access_token)), 'invalid_token')
      assert.equal(await isAccepted(() => verifier.verifyAccessToken(kept.access_token)), true)
    })
  }
})

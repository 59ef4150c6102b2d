/**
 * GET /v1/events/stream on one node: who may follow it, what each ending path sends and why,
 * resumption with Last-Event-ID (and resync beyond the window), heartbeats, and a slow consumer
 * cut off instead of buffered without end.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { describe, it } from 'node:test'
import { dataOf, openStreamClient } from '../helpers/event-stream-client.ts'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  type TestServer,
} from '../helpers/test-server.ts'
import { createIntrospectionClient, refresh } from '../helpers/token-lifecycle.ts'

const actor = { actorUserId: null, context: { ip: null, userAgent: 'test', requestId: null } }

async function follow(server: TestServer, lastEventId?: string) {
  const client = await createIntrospectionClient(server, `game-${Math.random().toString(16).slice(2)}`)
  const stream = await openStreamClient(server.url, client.authorization, lastEventId)
  return { client, stream }
}

describe('event stream', () => {
  it('is for service clients only', async (t) => {
    const server = await startTestServer(t)
    const none = await fetch(`${server.url}/v1/events/stream`)
    assert.equal(none.status, 401)
    assert.equal(((await none.json()) as { code: string }).code, 'invalid_client')
    const user = await registerUser(server)
    const { access_token: accessToken } = await logInWithToken(server, user.username)
    const bearer = await fetch(`${server.url}/v1/events/stream`, {
      headers: { authorization: `Bearer ${accessToken}` },
    })
    assert.equal(bearer.status, 401)
    const wrong = await openStreamClient(server.url, `Basic ${Buffer.from('nobody:secret').toString('base64')}`)
    assert.equal(wrong.status, 401)
    // Documented as a stream for service clients.
    const operation = (await server.request('/openapi.json')).json.paths['/v1/events/stream'].get
    assert.equal(operation.operationId, 'followEventStream')
    assert.ok(operation.responses['200'].content['text/event-stream'])
    assert.deepEqual(operation.security, [{ client: [] }])
  })

  it('sends session_ended with the reason of each ending path, roles_changed and keys_rotated, with ids', async (t) => {
    const server = await startTestServer(t, { TESSERA_SESSION_LIMITS: 'player:1' })
    const { stream } = await follow(server)
    t.after(() => stream.close())
    assert.equal(stream.status, 200)
    const user = await registerUser(server)
    const ended = (reason: string, sessionId: string) =>
      stream.waitFor(
        (message) =>
          message.event === 'session_ended' &&
          dataOf(message).reason === reason &&
          dataOf(message).session_id === sessionId,
      )

    const loggedOut = await logInWithToken(server, user.username)
    await server.request('/v1/auth/logout', { method: 'POST', bearer: loggedOut.access_token })
    const logout = await ended('logout', loggedOut.session_id)
    assert.equal(dataOf(logout).user_id, user.id)
    assert.match(logout.id ?? '', /^\d{13}-[0-9a-f]{8}-\d+$/)

    const [current, other] = [await logInWithToken(server, user.username), await logInWithToken(server, user.username)]
    assert.equal(
      (await server.request(`/v1/sessions/${other.session_id}`, { method: 'DELETE', bearer: current.access_token }))
        .status,
      204,
    )
    await ended('ended_by_user', other.session_id)

    const changed = await server.request('/v1/me/password', {
      body: { current_password: strongPassword, new_password: 'another long passphrase 42' },
      bearer: current.access_token,
    })
    assert.equal(changed.status, 200)
    await ended('password_change', current.session_id)

    const reused = await logInWithToken(server, user.username, 'another long passphrase 42')
    const rotated = await refresh(server, reused.refresh_token)
    assert.equal(rotated.status, 200)
    server.clock.advanceSeconds(60)
    assert.equal((await refresh(server, reused.refresh_token)).status, 400)
    await ended('refresh_reuse', reused.session_id)

    await server.application.accountAdmin.replaceUserRoles(user.id, ['player', 'user'], actor)
    const roles = await stream.waitFor(
      (message) => message.event === 'roles_changed' && dataOf(message).user_id === user.id,
    )
    assert.deepEqual(dataOf(roles).roles, ['player', 'user'])

    const first = await logInWithToken(server, user.username, 'another long passphrase 42')
    await logInWithToken(server, user.username, 'another long passphrase 42')
    await ended('limit', first.session_id)

    await server.application.tokenAdmin.rotateSigningKeys({}, actor)
    await stream.waitFor((message) => message.event === 'keys_rotated')
    const ids = stream.messages.map((message) => message.id)
    assert.equal(new Set(ids).size, ids.length)
  })

  it('resumes after Last-Event-ID, and tells a client beyond the replay window to resync', async (t) => {
    const server = await startTestServer(t, { TESSERA_EVENT_STREAM_REPLAY_WINDOW: '60s' })
    const { client, stream } = await follow(server)
    const user = await registerUser(server)
    const roles = async (list: string[]) => server.application.accountAdmin.replaceUserRoles(user.id, list, actor)
    await roles(['user', 'one'])
    const seen = await stream.waitFor((message) => message.event === 'roles_changed')
    stream.close()
    // Later than the margin a resumption replays besides (events of other nodes may arrive out of order).
    server.clock.advanceSeconds(5)
    await roles(['user', 'two'])
    await roles(['user', 'three'])
    const resumed = await openStreamClient(server.url, client.authorization, seen.id ?? '')
    t.after(() => resumed.close())
    await resumed.waitFor(
      (message) => Array.isArray(dataOf(message).roles) && (dataOf(message).roles as string[]).includes('three'),
    )
    assert.deepEqual(
      resumed.messages.map((message) => (dataOf(message).roles as string[])[0]),
      ['two', 'three'],
    )

    // Past the window the events are gone: the client must check every session again.
    server.clock.advanceSeconds(120)
    const late = await openStreamClient(server.url, client.authorization, seen.id ?? '')
    t.after(() => late.close())
    const resync = await late.waitFor((message) => message.event === 'resync')
    assert.equal(resync.id, null)
    for (const lastEventId of ['not-an-id', '9999999999999-00000000-1']) {
      const odd = await openStreamClient(server.url, client.authorization, lastEventId)
      await odd.waitFor((message) => message.event === 'resync')
      odd.close()
    }
  })

  it('sends a heartbeat comment on a quiet stream', async (t) => {
    const server = await startTestServer(t, { TESSERA_EVENT_STREAM_HEARTBEAT: '1s' })
    const { stream } = await follow(server)
    t.after(() => stream.close())
    await stream.waitForComment((text) => text === 'heartbeat', 5000)
  })

  it('cuts a consumer that stops reading once its unread events pass the bound', async (t) => {
    const server = await startTestServer(t, { TESSERA_EVENT_STREAM_MAX_BUFFER: '1024' })
    const client = await createIntrospectionClient(server)
    const user = await registerUser(server)
    const url = new URL(server.url)
    const socket = connect({ host: url.hostname, port: Number(url.port) })
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write(
      `GET /v1/events/stream HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: ${client.authorization}\r\n\r\n`,
    )
    // Read the answer's head, then stop reading altogether.
    await new Promise((resolve) => socket.once('data', resolve))
    socket.pause()
    let isClosed = false
    socket.on('close', () => (isClosed = true))
    const roles = Array.from(
      { length: 30 },
      (_unused, index) => `role-with-a-long-name-${String(index).padStart(8, '0')}`,
    )
    // Each event carries ~1 KiB; the kernel buffers take some MiB before Node has to hold any.
    let sent = 0
    while (!isClosed && sent < 20_000) {
      await Promise.all(
        Array.from({ length: 20 }, (_unused, index) =>
          server.application.accountAdmin.replaceUserRoles(
            user.id,
            ['user', ...roles.slice(0, 29), `r${sent + index}`],
            actor,
          ),
        ),
      )
      sent += 20
      // The server destroys the socket: reading again drains what was buffered, then sees the end.
      if (sent % 1000 === 0) {
        socket.resume()
        await new Promise((resolve) => setTimeout(resolve, 50))
        socket.pause()
      }
    }
    socket.resume()
    await new Promise<void>((resolve) => (isClosed ? resolve() : socket.once('close', () => resolve())))
    assert.equal(isClosed, true)
    t.diagnostic(`cut after ${sent} events`)
  })
})

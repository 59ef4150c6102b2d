/**
 * Guest devices over real HTTP, on SQLite, PostgreSQL and Redis: a device's first sign-in makes a
 * guest with a secret shown once; the secret, and only it, signs in again; a guest adds a
 * username and password and stays the same user with its data; devices are linked, listed and
 * unlinked (an unlinked device's secret is refused); simultaneous first sign-ins of one device
 * make one guest; wrong secrets are throttled; silent guests are pruned.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { Stores } from '../../src/core/stores.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'
import { skipUnlessPostgres, skipUnlessRedis } from '../helpers/backends.ts'
import { openTestPostgresStores } from '../helpers/postgres.ts'
import { createTestRedisSettings, openTestRedisStores } from '../helpers/redis.ts'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  uniqueUsername,
  type TestResponse,
  type TestServer,
} from '../helpers/test-server.ts'

interface Backend {
  name: string
  skip: string | false
  openStores(now: Date): Promise<Stores>
}

const backends: Backend[] = [
  { name: 'SQLite', skip: false, openStores: async (now) => openSqliteStores(':memory:', now) },
  { name: 'PostgreSQL', skip: await skipUnlessPostgres(), openStores: (now) => openTestPostgresStores({ now }) },
  {
    name: 'Redis',
    skip: await skipUnlessRedis(),
    openStores: (now) => openTestRedisStores(createTestRedisSettings(), now),
  },
]

let deviceCounter = 0
function newDeviceId(): string {
  deviceCounter += 1
  return `device-${deviceCounter}-${crypto.randomUUID()}`
}

function signInWithDevice(server: TestServer, body: Record<string, unknown>): Promise<TestResponse> {
  return server.request('/v1/auth/device', { body })
}

function assertRefused(response: TestResponse, name: string) {
  assert.equal(response.status, 401, `${name}: ${response.text}`)
  assert.equal(response.json.code, 'invalid_credentials', name)
}

async function start(t: TestContext, backend: Backend) {
  return startTestServer(t, {}, { openStores: backend.openStores })
}

for (const backend of backends) {
  describe(`guest devices (${backend.name})`, { skip: backend.skip }, () => {
    it('a new device gets a guest account and its secret once; only that secret signs it in again', async (t) => {
      const server = await start(t, backend)
      const deviceId = newDeviceId()
      const first = await signInWithDevice(server, { device_id: deviceId })
      assert.equal(first.status, 200, first.text)
      assert.match(first.json.device_secret, /^[A-Za-z0-9_-]{43}$/)
      assert.equal(first.json.user.username, null)
      assert.deepEqual(first.json.user.roles, ['guest'])
      assert.equal(first.json.device.device_id, deviceId)
      assert.ok(first.json.access_token && first.json.refresh_token)
      const me = await server.request('/v1/me', { bearer: first.json.access_token })
      assert.equal(me.status, 200)
      assert.equal(me.json.user.username, null)

      assertRefused(await signInWithDevice(server, { device_id: deviceId }), 'no secret')
      assertRefused(
        await signInWithDevice(server, { device_id: deviceId, device_secret: `${first.json.device_secret}x` }),
        'wrong secret',
      )
      assertRefused(
        await signInWithDevice(server, { device_id: newDeviceId(), device_secret: first.json.device_secret }),
        'secret of another id',
      )
      const again = await signInWithDevice(server, { device_id: deviceId, device_secret: first.json.device_secret })
      assert.equal(again.status, 200, again.text)
      assert.equal(again.json.user.id, first.json.user.id)
      assert.equal(again.json.device_secret, undefined)
      assert.notEqual(again.json.session_id, first.json.session_id)

      const stored = await server.stores.devices.findDeviceByDeviceId(deviceId)
      assert.ok(stored)
      assert.notEqual(stored.secretHash, first.json.device_secret)
      assert.ok(!JSON.stringify(server.auditEvents).includes(first.json.device_secret), 'secret in the audit trail')
    })

    it('signs a device in on the cookie transport too, from an allowed origin only', async (t) => {
      const server = await start(t, backend)
      const deviceId = newDeviceId()
      const crossSite = await server.request('/v1/auth/device', {
        body: { device_id: deviceId, mode: 'cookie' },
        headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      })
      assert.equal(crossSite.status, 403)
      assert.equal(crossSite.json.code, 'csrf_rejected')
      const origin = new URL(server.config.tokens.issuer).origin
      const signedIn = await server.request('/v1/auth/device', {
        body: { device_id: deviceId, mode: 'cookie' },
        headers: { origin },
      })
      assert.equal(signedIn.status, 200, signedIn.text)
      assert.equal(signedIn.json.access_token, undefined)
      assert.ok(signedIn.json.device_secret)
      const cookie = /__Host-session=([^;]*)/.exec(signedIn.headers.get('set-cookie') ?? '')?.[1]
      assert.ok(cookie)
      const me = await server.request('/v1/me', { cookie: `__Host-session=${cookie}` })
      assert.equal(me.json.user.id, signedIn.json.user.id)
    })

    it('a guest cannot be reached by password, and its name cannot be registered', async (t) => {
      const server = await start(t, backend)
      const first = await signInWithDevice(server, { device_id: newDeviceId() })
      const guestKey = `#guest:${first.json.user.id}`
      const login = await server.request('/v1/auth/login', { body: { username: guestKey, password: strongPassword } })
      assert.equal(login.status, 401)
      const register = await server.request('/v1/auth/register', {
        body: { username: guestKey, password: strongPassword },
      })
      assert.equal(register.status, 400)
      assert.equal(register.json.code, 'invalid_username')
      const passwordChange = await server.request('/v1/me/password', {
        body: { current_password: '', new_password: strongPassword },
        bearer: first.json.access_token,
      })
      assert.ok(passwordChange.status === 400 || passwordChange.status === 401, passwordChange.text)
    })

    it('a guest adds a username and password and keeps its id, data, devices and session', async (t) => {
      const server = await start(t, backend)
      const deviceId = newDeviceId()
      const first = await signInWithDevice(server, { device_id: deviceId })
      const bearer = first.json.access_token
      const saved = await server.request('/v1/me/data', {
        method: 'PUT',
        rawBody: '{"level":7}',
        headers: { 'content-type': 'application/json', 'if-match': '"0"' },
        bearer,
      })
      assert.equal(saved.status, 200)
      const username = uniqueUsername('player')
      const upgraded = await server.request('/v1/me/credentials', {
        body: { username, password: strongPassword },
        bearer,
      })
      assert.equal(upgraded.status, 200, upgraded.text)
      assert.deepEqual(
        { id: upgraded.json.id, username: upgraded.json.username, roles: upgraded.json.roles },
        { id: first.json.user.id, username, roles: ['user'] },
      )

      const me = await server.request('/v1/me', { bearer })
      assert.equal(me.status, 200, 'the session lives on')
      assert.equal(me.json.user.username, username)
      assert.deepEqual(me.json.user.roles, ['user'])
      const byPassword = await logInWithToken(server, username)
      assert.deepEqual((await server.request('/v1/me/data', { bearer: byPassword.access_token })).json, { level: 7 })
      const byDevice = await signInWithDevice(server, { device_id: deviceId, device_secret: first.json.device_secret })
      assert.equal(byDevice.json.user.id, first.json.user.id)

      const twice = await server.request('/v1/me/credentials', {
        body: { username: uniqueUsername(), password: strongPassword },
        bearer,
      })
      assert.equal(twice.status, 403)
      assert.equal(twice.json.code, 'forbidden')
    })

    it('adding credentials checks the name and the password like registration', async (t) => {
      const server = await start(t, backend)
      const { username: taken } = await registerUser(server)
      const bearer = (await signInWithDevice(server, { device_id: newDeviceId() })).json.access_token
      const send = (body: unknown) => server.request('/v1/me/credentials', { body, bearer })
      assert.equal(
        (await send({ username: taken.toUpperCase(), password: strongPassword })).json.code,
        'username_taken',
      )
      assert.equal((await send({ username: uniqueUsername(), password: 'short' })).json.code, 'password_too_short')
      assert.equal((await send({ username: 'a\u200bb', password: strongPassword })).json.code, 'invalid_username')
      assert.deepEqual((await server.request('/v1/me', { bearer })).json.user.roles, ['guest'])
      const { username } = await registerUser(server)
      const member = await logInWithToken(server, username)
      assert.equal(
        (
          await server.request('/v1/me/credentials', {
            body: { username: uniqueUsername(), password: strongPassword },
            bearer: member.access_token,
          })
        ).status,
        403,
      )
    })

    it("a signed-in user links, lists and unlinks devices; an unlinked device's secret is refused", async (t) => {
      const server = await start(t, backend)
      const { username, id } = await registerUser(server)
      const { access_token: bearer } = await logInWithToken(server, username)
      const deviceId = newDeviceId()
      const linked = await server.request('/v1/me/devices', { body: { device_id: deviceId }, bearer })
      assert.equal(linked.status, 201, linked.text)
      assert.match(linked.json.device_secret, /^[A-Za-z0-9_-]{43}$/)
      const signIn = await signInWithDevice(server, { device_id: deviceId, device_secret: linked.json.device_secret })
      assert.equal(signIn.status, 200)
      assert.equal(signIn.json.user.id, id)
      assert.equal(signIn.json.user.username, username)

      const taken = await server.request('/v1/me/devices', { body: { device_id: deviceId }, bearer })
      assert.equal(taken.status, 409)
      assert.equal(taken.json.code, 'device_taken')
      const listed = await server.request('/v1/me/devices', { bearer })
      assert.deepEqual(
        listed.json.devices.map((device: { device_id: string }) => device.device_id),
        [deviceId],
      )
      assert.equal(listed.json.devices[0].device_secret, undefined)

      const other = await logInWithToken(server, (await registerUser(server)).username)
      const foreign = await server.request(`/v1/me/devices/${linked.json.id}`, {
        method: 'DELETE',
        bearer: other.access_token,
      })
      assert.equal(foreign.status, 404)
      const unlinked = await server.request(`/v1/me/devices/${linked.json.id}`, { method: 'DELETE', bearer })
      assert.equal(unlinked.status, 204)
      assertRefused(
        await signInWithDevice(server, { device_id: deviceId, device_secret: linked.json.device_secret }),
        'unlinked',
      )
      assert.deepEqual((await server.request('/v1/me/devices', { bearer })).json.devices, [])
      assert.equal((await server.request(`/v1/me/devices/${linked.json.id}`, { method: 'DELETE', bearer })).status, 404)
    })

    it('unlinking a device ends the sessions it signed in, and only those', async (t) => {
      const server = await start(t, backend)
      const { username } = await registerUser(server)
      const password = await logInWithToken(server, username)
      const deviceId = newDeviceId()
      const linked = await server.request('/v1/me/devices', {
        body: { device_id: deviceId },
        bearer: password.access_token,
      })
      assert.equal(linked.status, 201, linked.text)
      const secret = { device_id: deviceId, device_secret: linked.json.device_secret }
      const byToken = await signInWithDevice(server, secret)
      const byCookie = await signInWithDevice(server, { ...secret, mode: 'cookie' })
      assert.equal(byToken.status, 200, byToken.text)
      assert.equal(byCookie.status, 200, byCookie.text)
      const cookie = String(byCookie.headers.get('set-cookie')).split(';')[0] ?? ''
      assert.equal((await server.request('/v1/me', { cookie })).status, 200)

      const unlinked = await server.request(`/v1/me/devices/${linked.json.id}`, {
        method: 'DELETE',
        bearer: password.access_token,
      })
      assert.equal(unlinked.status, 204)
      assert.equal((await server.request('/v1/me', { bearer: byToken.json.access_token })).status, 401)
      assert.equal((await server.request('/v1/me', { cookie })).status, 401)
      const refreshed = await server.request('/v1/auth/refresh', {
        body: { refresh_token: byToken.json.refresh_token },
      })
      assert.equal(refreshed.json.code, 'invalid_grant', refreshed.text)
      // The password session is not the device's: it goes on.
      assert.equal((await server.request('/v1/me', { bearer: password.access_token })).status, 200)
      const sessions = await server.request('/v1/sessions', { bearer: password.access_token })
      assert.deepEqual(
        sessions.json.sessions.map((session: { id: string }) => session.id),
        [password.session_id],
      )
    })

    it('sign-ins racing the unlink of their device leave no session alive', async (t) => {
      const server = await start(t, backend)
      const { username } = await registerUser(server)
      const password = await logInWithToken(server, username)
      const deviceId = newDeviceId()
      const linked = await server.request('/v1/me/devices', {
        body: { device_id: deviceId },
        bearer: password.access_token,
      })
      const secret = { device_id: deviceId, device_secret: linked.json.device_secret }
      const racing = Array.from({ length: 20 }, () => signInWithDevice(server, secret))
      const unlinked = server.request(`/v1/me/devices/${linked.json.id}`, {
        method: 'DELETE',
        bearer: password.access_token,
      })
      const answers = await Promise.all(racing)
      assert.equal((await unlinked).status, 204)
      for (const answer of answers) {
        if (answer.status !== 200) {
          // Refused for the device being gone, or told to sign in again when the unlink ended the
          // session while it was being started.
          assert.ok(['invalid_credentials', 'service_unavailable'].includes(answer.json.code), answer.text)
          continue
        }
        assert.equal((await server.request('/v1/me', { bearer: answer.json.access_token })).status, 401)
        const refreshed = await server.request('/v1/auth/refresh', {
          body: { refresh_token: answer.json.refresh_token },
        })
        assert.equal(refreshed.json.code, 'invalid_grant', refreshed.text)
      }
      const sessions = await server.request('/v1/sessions', { bearer: password.access_token })
      assert.deepEqual(
        sessions.json.sessions.map((session: { id: string }) => session.id),
        [password.session_id],
      )
    })

    it('refuses malformed device ids and unknown fields', async (t) => {
      const server = await start(t, backend)
      for (const body of [
        { device_id: 'short' },
        { device_id: 'has space in it' },
        { device_id: 'x'.repeat(129) },
        { device_id: newDeviceId(), roles: ['admin'] },
        {},
      ]) {
        const response = await signInWithDevice(server, body)
        assert.equal(response.status, 400, JSON.stringify(body))
        assert.equal(response.json.code, 'validation_failed')
      }
    })

    it('50 simultaneous first sign-ins of one device make exactly one guest', async (t) => {
      const server = await start(t, backend)
      const deviceId = newDeviceId()
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => signInWithDevice(server, { device_id: deviceId })),
      )
      const statuses = responses.map((response) => response.status)
      const created = responses.filter((response) => response.status === 200)
      assert.equal(created.length, 1, statuses.join(','))
      assert.ok(
        statuses.every((status) => status === 200 || status === 401 || status === 429),
        statuses.join(','),
      )
      const device = await server.stores.devices.findDeviceByDeviceId(deviceId)
      assert.equal(device?.userId, created[0]?.json.user.id)
    })

    it('wrong device secrets from one network are throttled', async (t) => {
      const server = await start(t, backend)
      const deviceId = newDeviceId()
      const { device_secret: secret } = (await signInWithDevice(server, { device_id: deviceId })).json
      const statuses: number[] = []
      for (let attempt = 0; attempt < 40; attempt += 1) {
        statuses.push(
          (await signInWithDevice(server, { device_id: deviceId, device_secret: `wrong-${attempt}` })).status,
        )
      }
      assert.ok(statuses.includes(429), statuses.join(','))
      assert.ok(
        statuses.slice(0, 30).every((status) => status === 401),
        statuses.join(','),
      )
      const blocked = await signInWithDevice(server, { device_id: deviceId, device_secret: secret })
      assert.equal(blocked.status, 429)
      assert.equal(blocked.json.code, 'rate_limited')
    })

    it('the housekeeping deletes guests whose devices stayed silent, with their data, and keeps the others', async (t) => {
      const server = await start(t, backend)
      const silentId = newDeviceId()
      const silent = (await signInWithDevice(server, { device_id: silentId })).json
      await server.request('/v1/me/data', {
        method: 'PUT',
        rawBody: '{"a":1}',
        headers: { 'content-type': 'application/json', 'if-match': '"0"' },
        bearer: silent.access_token,
      })
      const activeId = newDeviceId()
      const active = (await signInWithDevice(server, { device_id: activeId })).json
      const upgradedId = newDeviceId()
      const upgraded = (await signInWithDevice(server, { device_id: upgradedId })).json
      await server.request('/v1/me/credentials', {
        body: { username: uniqueUsername(), password: strongPassword },
        bearer: upgraded.access_token,
      })

      server.clock.advanceSeconds(29 * 86_400)
      assert.equal(
        (await signInWithDevice(server, { device_id: activeId, device_secret: active.device_secret })).status,
        200,
      )
      server.clock.advanceSeconds(2 * 86_400)
      const sweep = server.application.maintenance.sweeps.find((entry) => entry.name === 'unused-guest')
      assert.ok(sweep)
      assert.equal(await sweep.run(), 1)

      assertRefused(
        await signInWithDevice(server, { device_id: silentId, device_secret: silent.device_secret }),
        'pruned guest',
      )
      assert.equal(await server.stores.accounts.findUserById(silent.user.id), null)
      assert.equal(await server.stores.playerData.readDocument(silent.user.id), null)
      assert.equal(await server.stores.devices.findDeviceByDeviceId(silentId), null)
      assert.equal(
        (await signInWithDevice(server, { device_id: activeId, device_secret: active.device_secret })).status,
        200,
      )
      assert.equal(
        (await signInWithDevice(server, { device_id: upgradedId, device_secret: upgraded.device_secret })).status,
        200,
      )
      assert.ok(
        server.auditEvents.some(
          (event) =>
            event.type === 'user_deleted' && event.reason === 'unused_guest' && event.subjectUserId === silent.user.id,
        ),
      )
    })
  })
}

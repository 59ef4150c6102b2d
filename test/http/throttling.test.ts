import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  uniqueUsername,
  type TestServer,
} from '../helpers/test-server.ts'

/** SECURITY.md's "proxy" profile: 127.0.0.1 is a trusted proxy, so tests choose client addresses. */
const proxyProfile = { TESSERA_TRUST_PROXY: '1' }

function logInFrom(server: TestServer, ip: string, username: string, password: string) {
  return server.request('/v1/auth/login', { body: { username, password }, headers: { 'x-forwarded-for': ip } })
}

function withoutInstance(body: Record<string, unknown>): Record<string, unknown> {
  const { instance: _instance, ...rest } = body
  return rest
}

describe('sign-in throttling', () => {
  it('never throttles concurrent correct sign-ins of one user from one address', async (t) => {
    // Production hashing keeps the sign-ins in flight together.
    const server = await startTestServer(t, {}, { realArgon2: true })
    const { username } = await registerUser(server)
    const statuses = await Promise.all(
      Array.from({ length: 24 }, async () => {
        const response = await server.request('/v1/auth/login', { body: { username, password: strongPassword } })
        return response.status
      }),
    )
    assert.deepEqual([...new Set(statuses)], [200])
  })

  it('throttles then locks a brute force of 200 passwords from one address, while the owner still signs in from a known one', async (t) => {
    const server = await startTestServer(t, proxyProfile)
    const { username } = await registerUser(server)
    assert.equal((await logInFrom(server, '192.0.2.10', username, strongPassword)).status, 200)

    // 1. Hammering: one guess a second. After 5 free failures the waits start, and every refused
    //    guess restarts the current wait, so hammering never gets another password checked.
    const statuses: number[] = []
    const retryAfters: number[] = []
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const response = await logInFrom(server, '203.0.113.66', username, `wrong guess number ${attempt}`)
      statuses.push(response.status)
      if (response.status === 429) {
        retryAfters.push(Number(response.headers.get('retry-after')))
        assert.equal(response.json.code, 'rate_limited')
        assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/)
      }
      server.clock.advanceSeconds(1)
    }
    const verified = statuses.filter((status) => status === 401).length
    assert.ok(verified >= 5 && verified <= 8, `${verified} passwords were verified`)
    assert.equal(statuses.filter((status) => status !== 401 && status !== 429).length, 0)
    assert.ok(
      statuses.slice(10).every((status) => status === 429),
      'locked while hammered',
    )
    assert.ok(
      retryAfters.every((seconds, index) => seconds >= 1 && seconds >= (retryAfters[index - 1] ?? 0)),
      'Retry-After never shrinks',
    )

    // 2. A patient attacker who waits out every Retry-After sees each wait double.
    const waits: number[] = []
    for (let round = 0; round < 6; round += 1) {
      const refused = await logInFrom(server, '203.0.113.66', username, 'patient guess')
      waits.push(Number(refused.headers.get('retry-after')))
      server.clock.advanceSeconds(Number(refused.headers.get('retry-after')))
      assert.equal((await logInFrom(server, '203.0.113.66', username, 'patient guess')).status, 401)
    }
    assert.ok(
      waits.every((wait, index) => index === 0 || wait === 2 * (waits[index - 1] ?? 0)),
      `waits ${waits.join(', ')}`,
    )

    // 3. The owner's usual address is exempt from the username-wide back-off.
    assert.equal((await logInFrom(server, '192.0.2.10', username, strongPassword)).status, 200)
  })

  it('applies the username-wide back-off to unknown addresses once enough of them failed', async (t) => {
    const server = await startTestServer(t, proxyProfile)
    const { username } = await registerUser(server)
    for (let index = 0; index < 10; index += 1) {
      assert.equal((await logInFrom(server, `198.51.100.${index}`, username, 'wrong password here')).status, 401)
    }
    const fresh = await logInFrom(server, '198.51.100.99', username, strongPassword)
    assert.equal(fresh.status, 429, 'even the right password is not verified while throttled')
    server.clock.advanceSeconds(Number(fresh.headers.get('retry-after')))
    assert.equal((await logInFrom(server, '198.51.100.99', username, strongPassword)).status, 200)
    assert.equal(
      (await logInFrom(server, '198.51.100.98', username, 'wrong password here')).status,
      401,
      'the success reset the counters',
    )
  })

  it('throttles a password spray from one address across 50 accounts, not other addresses', async (t) => {
    const server = await startTestServer(t, proxyProfile)
    const statuses: number[] = []
    for (let index = 0; index < 50; index += 1) {
      // Created directly: registrations over HTTP are limited per address too.
      const username = uniqueUsername()
      await server.application.accountAdmin.createUser(
        { username, password: strongPassword, roles: ['user'] },
        { actorUserId: null, context: { ip: null, userAgent: 'test', requestId: null } },
      )
      statuses.push((await logInFrom(server, '203.0.113.7', username, 'Summer2025!Summer2025!')).status)
    }
    const firstThrottled = statuses.indexOf(429)
    assert.equal(firstThrottled, 20)
    assert.ok(statuses.slice(firstThrottled).every((status) => status === 429))
    const other = await logInFrom(server, '203.0.113.8', uniqueUsername(), 'Summer2025!Summer2025!')
    assert.equal(other.status, 401)
  })

  it('ignores forged forwarding headers unless a proxy is trusted', async (t) => {
    const server = await startTestServer(t)
    const statuses: number[] = []
    for (let index = 0; index < 30; index += 1) {
      const forged = `${index % 250}.${(index * 7) % 250}.1.2`
      const response = await server.request('/v1/auth/login', {
        body: { username: uniqueUsername(), password: 'not the password at all' },
        headers: { 'x-forwarded-for': forged, 'x-real-ip': forged, forwarded: `for=${forged}` },
      })
      statuses.push(response.status)
    }
    assert.equal(statuses.indexOf(429), 20, 'every forged address landed in the one real bucket')
  })

  it('believes X-Forwarded-For from a trusted proxy, one bucket per client', async (t) => {
    const server = await startTestServer(t, proxyProfile)
    for (let index = 0; index < 30; index += 1) {
      const response = await logInFrom(server, `198.51.${index}.1`, uniqueUsername(), 'not the password at all')
      assert.equal(response.status, 401)
    }
    const { username } = await registerUser(server)
    const tokens = await logInWithToken(server, username)
    const sessions = await server.request('/v1/sessions', { bearer: tokens.access_token })
    assert.equal(sessions.json.sessions[0].ip, '127.0.0.1')
    const viaProxy = await logInFrom(server, '198.51.100.77', username, strongPassword)
    const listed = await server.request('/v1/sessions', { bearer: viaProxy.json.access_token })
    assert.ok(listed.json.sessions.some((session: { ip: string }) => session.ip === '198.51.100.77'))
  })

  it('answers throttled attempts identically for an existing and an unknown username', async (t) => {
    const server = await startTestServer(t, proxyProfile)
    const { username } = await registerUser(server)
    const ghost = uniqueUsername('ghost')
    const sequences: Record<string, Array<[number, string | null]>> = { [username]: [], [ghost]: [] }
    const bodies: Record<string, unknown> = {}
    for (let index = 0; index < 15; index += 1) {
      for (const name of [username, ghost]) {
        const response = await logInFrom(
          server,
          `10.${index}.0.${name === ghost ? 2 : 1}`,
          name,
          'a wrong password it is',
        )
        sequences[name]?.push([response.status, response.headers.get('retry-after')])
        if (response.status === 429) bodies[name] = withoutInstance(response.json)
      }
    }
    assert.deepEqual(sequences[username], sequences[ghost])
    assert.ok(sequences[username]?.some(([status]) => status === 429))
    assert.deepEqual(bodies[username], bodies[ghost])
  })

  it('answers a throttled attempt quickly, with no password hashing', async (t) => {
    const server = await startTestServer(t, proxyProfile, { realArgon2: true })
    const { username } = await registerUser(server)
    for (let index = 0; index < 5; index += 1) await logInFrom(server, '203.0.113.5', username, 'wrong password here')
    const durations: number[] = []
    for (let index = 0; index < 20; index += 1) {
      const started = performance.now()
      const response = await logInFrom(server, '203.0.113.5', username, strongPassword)
      durations.push(performance.now() - started)
      assert.equal(response.status, 429)
    }
    durations.sort((a, b) => a - b)
    const median = durations[10] ?? Infinity
    t.diagnostic(`median throttled answer: ${median.toFixed(2)} ms`)
    assert.ok(median < 20, `median ${median} ms`)
  })

  it('counts a wrong current password on a password change, and throttles the change', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const tokens = await logInWithToken(server, username)
    const statuses: number[] = []
    for (let index = 0; index < 7; index += 1) {
      const response = await server.request('/v1/me/password', {
        bearer: tokens.access_token,
        body: { current_password: `wrong current ${index}`, new_password: 'a brand new passphrase 2026' },
      })
      statuses.push(response.status)
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429])
  })

  it('lets an admin lift a lock-out at once', async (t) => {
    const server = await startTestServer(t, proxyProfile)
    const { username, id } = await registerUser(server)
    const adminName = uniqueUsername('admin')
    await server.application.accountAdmin.createUser(
      { username: adminName, password: strongPassword, roles: ['admin', 'user'] },
      { actorUserId: null, context: { ip: null, userAgent: 'test', requestId: null } },
    )
    const admin = await logInWithToken(server, adminName)
    for (let index = 0; index < 12; index += 1)
      await logInFrom(server, `198.51.100.${index % 3}`, username, 'wrong password here')
    assert.equal((await logInFrom(server, '198.51.100.1', username, strongPassword)).status, 429)
    const unlock = await server.request(`/v1/admin/users/${id}/unlock`, { method: 'POST', bearer: admin.access_token })
    assert.equal(unlock.status, 200)
    assert.equal(unlock.json.user.id, id)
    assert.ok(unlock.json.cleared_counters >= 2)
    assert.equal((await logInFrom(server, '198.51.100.1', username, strongPassword)).status, 200)
    const missing = await server.request('/v1/admin/users/00000000-0000-4000-8000-000000000000/unlock', {
      method: 'POST',
      bearer: admin.access_token,
    })
    assert.equal(missing.status, 404)
  })
})

describe('request limits', () => {
  it('limits registrations per address and answers 429 with Retry-After', async (t) => {
    const server = await startTestServer(t)
    const statuses: number[] = []
    for (let index = 0; index < 30; index += 1) {
      const response = await server.request('/v1/auth/register', {
        body: { username: uniqueUsername(), password: strongPassword },
      })
      statuses.push(response.status)
      if (response.status === 429) assert.ok(Number(response.headers.get('retry-after')) >= 1)
    }
    assert.equal(statuses.indexOf(429), 10)
  })

  it('limits failed refreshes per address but never successful ones', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    let { refresh_token: refreshToken } = await logInWithToken(server, username)
    for (let index = 0; index < 40; index += 1) {
      const response = await server.request('/v1/auth/refresh', { body: { refresh_token: refreshToken } })
      assert.equal(response.status, 200)
      refreshToken = response.json.refresh_token
    }
    const statuses: number[] = []
    for (let index = 0; index < 40; index += 1) {
      const response = await server.request('/v1/auth/refresh', {
        body: { refresh_token: randomBytes(32).toString('base64url') },
      })
      statuses.push(response.status)
    }
    assert.equal(statuses.indexOf(429), 30)
    assert.ok(statuses.slice(0, 30).every((status) => status === 400))
  })
})

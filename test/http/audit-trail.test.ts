/**
 * AU-01, AU-02, AU-05: each flow leaves its events with the right user and session handle,
 * every entry has the required fields, the trail is readable by admins only and cannot be
 * changed through the API; a user sees the events of their own account.
 */
import { createAttemptedUsernames } from '../../src/core/audit/attempted-username.ts'
import { createAudit } from '../../src/core/audit/audit.ts'
import { silentObserver } from '../../src/core/observer.ts'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createAccount, startAuditServer } from '../helpers/audit-server.ts'

const password = 'correct horse battery staple'
const newPassword = 'another horse battery staple'

interface EventView {
  id: string
  occurred_at: string
  type: string
  outcome: string
  reason: string | null
  actor_user_id: string | null
  subject_user_id: string | null
  username: string | null
  ip: string | null
  user_agent: string | null
  session_id: string | null
  request_id: string | null
  node_id: string
  details: Record<string, unknown>
}

describe('audit trail over HTTP', () => {
  it('records every flow once, with user, session handle, address, user agent, request id and node', async (t) => {
    const server = await startAuditServer(t)
    await createAccount(server, 'root', password, ['admin', 'user'])
    const since = server.clock.now().toISOString()
    const client = { headers: { 'user-agent': 'audit-test/1.0' } }
    // 1. Register, then fail twice (unknown user, wrong password), then sign in on both transports.
    const registered = await server.requestFrom('127.0.0.2', '/v1/auth/register', {
      ...client,
      body: { username: 'Alice', password },
    })
    assert.equal(registered.status, 201)
    const taken = await server.requestFrom('127.0.0.2', '/v1/auth/register', {
      ...client,
      body: { username: 'alice', password },
    })
    assert.equal(taken.status, 409)
    const unknown = await server.requestFrom('127.0.0.2', '/v1/auth/login', {
      ...client,
      body: { username: 'nobody', password },
    })
    const wrong = await server.requestFrom('127.0.0.2', '/v1/auth/login', {
      ...client,
      body: { username: 'alice', password: 'wrong horse battery staple' },
    })
    // The reason stays internal: both answers are the same problem.
    assert.deepEqual(
      [unknown.status, unknown.json.code, unknown.json.detail],
      [wrong.status, wrong.json.code, wrong.json.detail],
    )
    assert.ok(!unknown.text.includes('unknown_user') && !wrong.text.includes('bad_password'))
    const token = (
      await server.requestFrom('127.0.0.2', '/v1/auth/login', { ...client, body: { username: 'alice', password } })
    ).json
    const cookieLogin = await server.requestFrom('127.0.0.2', '/v1/auth/login', {
      ...client,
      body: { username: 'alice', password, mode: 'cookie' },
    })
    // 2. Refresh, replay the spent token (reuse), sign in again and end the cookie session from it.
    const refreshed = await server.requestFrom('127.0.0.2', '/v1/auth/refresh', {
      ...client,
      body: { refresh_token: token.refresh_token },
    })
    assert.equal(refreshed.status, 200)
    assert.equal(
      (
        await server.requestFrom('127.0.0.2', '/v1/auth/refresh', {
          ...client,
          body: { refresh_token: token.refresh_token },
        })
      ).status,
      400,
    )
    const second = (
      await server.requestFrom('127.0.0.2', '/v1/auth/login', { ...client, body: { username: 'alice', password } })
    ).json
    const revoked = await server.requestFrom('127.0.0.2', `/v1/sessions/${cookieLogin.json.session_id}`, {
      ...client,
      method: 'DELETE',
      bearer: second.access_token,
    })
    assert.equal(revoked.status, 204)
    // 3. A refused password change, a password change, a 403, a role change, then logout.
    const badChange = await server.requestFrom('127.0.0.2', '/v1/me/password', {
      ...client,
      bearer: second.access_token,
      body: { current_password: 'not the current one at all', new_password: newPassword },
    })
    assert.equal(badChange.status, 401)
    const changed = await server.requestFrom('127.0.0.2', '/v1/me/password', {
      ...client,
      bearer: second.access_token,
      body: { current_password: password, new_password: newPassword },
    })
    assert.equal(changed.status, 200)
    assert.equal(
      (await server.requestFrom('127.0.0.2', '/v1/admin/audit', { ...client, bearer: changed.json.access_token }))
        .status,
      403,
    )
    const admin = (await server.request('/v1/auth/login', { body: { username: 'root', password } })).json
    const aliceId = registered.json.id as string
    assert.equal(
      (
        await server.request(`/v1/admin/users/${aliceId}/roles`, {
          method: 'PUT',
          bearer: admin.access_token,
          body: { roles: ['user', 'moderator'] },
        })
      ).status,
      200,
    )
    assert.equal(
      (
        await server.requestFrom('127.0.0.2', '/v1/auth/logout', {
          ...client,
          method: 'POST',
          bearer: changed.json.access_token,
        })
      ).status,
      204,
    )

    const page = await server.request(`/v1/admin/audit?since=${since}&limit=100`, { bearer: admin.access_token })
    assert.equal(page.status, 200)
    const events = (page.json.events as EventView[]).reverse()
    const isUnknownAttempt = (event: EventView) => event.type === 'login_failed' && event.reason === 'unknown_user'
    const aliceEvents = events.filter(
      (event) => event.subject_user_id === aliceId || isUnknownAttempt(event) || event.type === 'registration_failed',
    )
    assert.deepEqual(
      aliceEvents.map((event) => [event.type, event.outcome, event.reason]),
      [
        ['user_registered', 'success', null],
        ['registration_failed', 'failure', 'username_taken'],
        ['login_failed', 'failure', 'unknown_user'],
        ['login_failed', 'failure', 'bad_password'],
        ['login_succeeded', 'success', null],
        ['login_succeeded', 'success', null],
        ['token_refreshed', 'success', 'rotation'],
        ['refresh_token_reused', 'failure', 'reused'],
        ['login_succeeded', 'success', null],
        ['session_revoked', 'success', 'revoked_by_user'],
        ['password_change_failed', 'failure', 'bad_password'],
        ['password_changed', 'success', null],
        ['session_revoked', 'success', 'password_changed'],
        ['session_started', 'success', 'password_changed'],
        ['access_denied', 'failure', 'missing_role'],
        ['role_granted', 'success', 'admin_action'],
        ['logged_out', 'success', 'logout'],
      ],
    )
    const byType = (type: string) => aliceEvents.filter((event) => event.type === type)
    assert.equal(byType('token_refreshed')[0]?.session_id, token.session_id)
    assert.equal(byType('refresh_token_reused')[0]?.session_id, token.session_id)
    assert.equal(byType('session_revoked')[0]?.session_id, cookieLogin.json.session_id)
    assert.equal(byType('session_revoked')[1]?.session_id, second.session_id)
    // The change is recorded against the session that made it; the session that replaces it, on its own.
    assert.equal(byType('password_changed')[0]?.session_id, second.session_id)
    assert.equal(byType('session_started')[0]?.session_id, changed.json.session_id)
    assert.equal(byType('logged_out')[0]?.session_id, changed.json.session_id)
    assert.equal(byType('role_granted')[0]?.actor_user_id, admin.user.id)
    assert.deepEqual(byType('role_granted')[0]?.details, { role: 'moderator' })
    // A name that is no account's is kept as a keyed digest; an account's stays readable.
    assert.match(byType('login_failed')[0]?.username ?? '', /^~[A-Za-z0-9_-]{16}$/)
    assert.equal(byType('login_failed')[1]?.username, 'alice')
    assert.equal(byType('registration_failed')[0]?.username, 'alice')
    assert.equal(byType('login_failed')[0]?.subject_user_id, null)
    for (const event of aliceEvents.filter((item) => item.type !== 'role_granted')) {
      assert.match(event.occurred_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      assert.equal(event.ip, '127.0.0.2', event.type)
      assert.equal(event.user_agent, 'audit-test/1.0', event.type)
      assert.match(event.request_id ?? '', /^[0-9a-f-]{36}$/, event.type)
      assert.equal(event.node_id, 'test-node')
    }
    // Every request id names a distinct request, and a login's id is its log line's reqId.
    assert.ok(server.logLines.some((line) => line.includes(byType('login_succeeded')[0]?.request_id ?? 'missing')))
  })

  it('filters by user, type, outcome, address and time, and pages with a cursor', async (t) => {
    const server = await startAuditServer(t)
    await createAccount(server, 'root', password, ['admin', 'user'])
    const bobId = await createAccount(server, 'bob', password)
    for (let index = 0; index < 5; index += 1) {
      server.clock.advanceSeconds(10)
      await server.requestFrom(`127.0.0.${10 + index}`, '/v1/auth/login', {
        body: { username: 'bob', password: `wrong password number ${index}` },
      })
    }
    const middle = server.clock.now().toISOString()
    server.clock.advanceSeconds(10)
    await server.requestFrom('127.0.0.20', '/v1/auth/login', { body: { username: 'bob', password } })
    const admin = (await server.request('/v1/auth/login', { body: { username: 'root', password } })).json
    const query = async (search: string) => {
      const response = await server.request(`/v1/admin/audit?${search}`, { bearer: admin.access_token })
      assert.equal(response.status, 200, response.text)
      return response.json as { events: EventView[]; next_cursor: string | null }
    }
    assert.equal((await query(`user=${bobId}&type=login_failed`)).events.length, 5)
    assert.equal((await query('type=login_failed&type=login_succeeded&outcome=success')).events.length, 2)
    assert.deepEqual(
      (await query('ip=127.0.0.12')).events.map((event) => event.type),
      ['login_failed'],
    )
    // `since` is inclusive and `until` exclusive: the fifth failure happened at `middle`.
    assert.equal((await query(`user=${bobId}&until=${middle}`)).events.length, 5)
    assert.equal((await query(`user=${bobId}&since=${middle}`)).events.length, 2)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: { events: EventView[]; next_cursor: string | null } = await query(
        `user=${bobId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      )
      assert.ok(page.events.length <= 2)
      seen.push(...page.events.map((event) => event.id))
      cursor = page.next_cursor
    } while (cursor !== null)
    assert.equal(seen.length, 7)
    assert.equal(new Set(seen).size, 7)
    for (const bad of [
      'type=not_a_type',
      'outcome=maybe',
      'since=yesterday',
      'limit=0',
      'cursor=%21%21',
      `cursor=${Buffer.from('x').toString('base64url')}`,
      'extra=1',
    ]) {
      const response = await server.request(`/v1/admin/audit?${bad}`, { bearer: admin.access_token })
      assert.equal(response.status, 400, bad)
      assert.equal(response.json.code, 'validation_failed', bad)
    }
  })

  it('exports every matching event as JSON lines, oldest first', async (t) => {
    const server = await startAuditServer(t)
    await createAccount(server, 'root', password, ['admin', 'user'])
    // Written straight into the trail: 600 real failed sign-ins would meet the throttle.
    const audit = createAudit({
      store: server.stores.audit,
      clock: server.clock,
      nodeId: 'test-node',
      observer: silentObserver,
      usernames: createAttemptedUsernames({ secret: new Uint8Array(32), accounts: server.stores.accounts }),
    })
    for (let index = 0; index < 600; index += 1) {
      await audit.record({
        type: 'login_failed',
        outcome: 'failure',
        reason: 'unknown_user',
        username: `ghost${index}`,
        context: { ip: '192.0.2.1', userAgent: null, requestId: `ghost${index}` },
      })
    }
    const admin = (await server.request('/v1/auth/login', { body: { username: 'root', password } })).json
    const exported = await server.request('/v1/admin/audit?format=jsonl&type=login_failed', {
      bearer: admin.access_token,
    })
    assert.equal(exported.status, 200)
    assert.match(exported.headers.get('content-type') ?? '', /^application\/x-ndjson/)
    const lines = exported.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as EventView)
    assert.equal(lines.length, 600)
    assert.deepEqual(
      lines.slice(0, 2).map((line) => line.request_id),
      ['ghost0', 'ghost1'],
    )
    assert.equal(lines.at(-1)?.request_id, 'ghost599')
    assert.equal(new Set(lines.map((line) => line.username)).size, 600)
  })

  it('is for admins only and has no method that changes or deletes events', async (t) => {
    const server = await startAuditServer(t)
    await createAccount(server, 'carol', password)
    const user = (await server.request('/v1/auth/login', { body: { username: 'carol', password } })).json
    assert.equal((await server.request('/v1/admin/audit')).status, 401)
    const forbidden = await server.request('/v1/admin/audit', { bearer: user.access_token })
    assert.equal(forbidden.status, 403)
    assert.equal((await server.request('/v1/admin/alerts', { bearer: user.access_token })).status, 403)
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const response = await server.request('/v1/admin/audit', { method, bearer: user.access_token })
      assert.equal(response.status, 405, method)
    }
  })

  it("shows a user the events of their own account and nobody else's", async (t) => {
    const server = await startAuditServer(t)
    await createAccount(server, 'dave', password)
    await createAccount(server, 'erin', password)
    await server.requestFrom('127.0.0.30', '/v1/auth/login', {
      body: { username: 'dave', password: 'not dave password at all' },
    })
    await server.requestFrom('127.0.0.30', '/v1/auth/login', {
      body: { username: 'erin', password: 'not erin password at all' },
    })
    const dave = (await server.requestFrom('127.0.0.31', '/v1/auth/login', { body: { username: 'dave', password } }))
      .json
    const mine = await server.request('/v1/me/events', { bearer: dave.access_token })
    assert.equal(mine.status, 200)
    assert.deepEqual(
      mine.json.events.map((event: EventView) => event.type),
      ['login_succeeded', 'login_failed', 'user_created'],
    )
    // A failed sign-in on the account was not dave's request: its address is not shown to him.
    assert.deepEqual(
      mine.json.events.map((event: EventView) => event.ip),
      ['127.0.0.31', null, null],
    )
    assert.equal(mine.json.events[0].reason, undefined)
    assert.equal((await server.request('/v1/me/events')).status, 401)
  })

  // regression: #11 (item 6)
  it("shows a user the address and user agent of their own requests only, never an admin's", async (t) => {
    const server = await startAuditServer(t)
    await createAccount(server, 'root', password, ['admin', 'user'])
    const frank = await createAccount(server, 'frank', password)
    const adminClient = { headers: { 'user-agent': 'admin-console/7.1 (office)' } }
    const admin = (
      await server.requestFrom('127.0.0.40', '/v1/auth/login', { ...adminClient, body: { username: 'root', password } })
    ).json
    const roles = await server.requestFrom('127.0.0.40', `/v1/admin/users/${frank}/roles`, {
      ...adminClient,
      method: 'PUT',
      bearer: admin.access_token,
      body: { roles: ['user', 'moderator'] },
    })
    assert.equal(roles.status, 200)
    const unlocked = await server.requestFrom('127.0.0.40', `/v1/admin/users/${frank}/unlock`, {
      ...adminClient,
      method: 'POST',
      bearer: admin.access_token,
    })
    assert.equal(unlocked.status, 200)
    const login = await server.requestFrom('127.0.0.41', '/v1/auth/login', {
      headers: { 'user-agent': 'frank-phone/2.0' },
      body: { username: 'frank', password },
    })
    const mine = await server.request('/v1/me/events', { bearer: login.json.access_token })
    assert.equal(mine.status, 200)
    const byType = new Map(mine.json.events.map((event: EventView) => [event.type, event]))
    assert.deepEqual([...byType.keys()].sort(), ['account_unlocked', 'login_succeeded', 'role_granted', 'user_created'])
    for (const type of ['role_granted', 'account_unlocked']) {
      const event = byType.get(type) as EventView
      assert.equal(event.ip, null, type)
      assert.equal(event.user_agent, null, type)
    }
    const own = byType.get('login_succeeded') as EventView
    assert.equal(own.ip, '127.0.0.41')
    assert.equal(own.user_agent, 'frank-phone/2.0')
    assert.ok(!mine.text.includes('127.0.0.40') && !mine.text.includes('admin-console'))
    // The administrators' trail keeps the full context.
    const trail = await server.request(`/v1/admin/audit?user=${frank}&type=role_granted`, {
      bearer: admin.access_token,
    })
    assert.equal(trail.json.events[0].ip, '127.0.0.40')
    assert.equal(trail.json.events[0].user_agent, 'admin-console/7.1 (office)')
  })

  it('one hostile client at full speed adds a bounded number of rows: refusals are counted per kind and window', async (t) => {
    // The throttle is on with its defaults here: a client hammering sign-in is soon refused.
    const server = await startAuditServer(t, {
      TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '5',
      TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '10',
      TESSERA_THROTTLE_IP_THRESHOLD: '20',
    })
    await createAccount(server, 'root', password, ['admin', 'user'])
    const since = server.clock.now().toISOString()
    const simulatedSeconds = 600
    const requests = 1000
    for (let index = 0; index < requests; index += 1) {
      // A cookie sign-in from a foreign site (access_denied), and a sign-in on ever new names (login_throttled).
      const crossSite = server.requestFrom('127.0.0.9', '/v1/auth/login', {
        headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
        body: { username: 'root', password: 'not the password at all', mode: 'cookie' },
      })
      const guess = server.requestFrom('127.0.0.9', '/v1/auth/login', {
        body: { username: `victim${index}`, password: 'Summer2026!Summer2026!' },
      })
      const [denied, guessed] = await Promise.all([crossSite, guess])
      assert.equal(denied.status, 403)
      assert.ok([401, 429].includes(guessed.status), String(guessed.status))
      server.clock.advanceSeconds(simulatedSeconds / requests)
    }
    // The minute sweep writes the counts of the last window once it is over.
    server.clock.advanceSeconds(60)
    await Promise.all(server.application.maintenance.sweeps.map((sweep) => sweep.run()))
    const admin = (await server.request('/v1/auth/login', { body: { username: 'root', password } })).json
    const page = await server.request(
      `/v1/admin/audit?since=${since}&limit=500&type=access_denied&type=login_throttled&type=login_failed`,
      {
        bearer: admin.access_token,
      },
    )
    const events = page.json.events as Array<{ type: string; details: { repeated?: number } }>
    const counted = (type: string) =>
      events.filter((event) => event.type === type).reduce((total, event) => total + (event.details.repeated ?? 1), 0)
    const rows = events.length
    t.diagnostic(
      `${2 * requests} refusals in ${simulatedSeconds} s of one client: ${rows} audit rows, about ${Math.round((rows * 3600) / simulatedSeconds)} an hour`,
    )
    // Every refusal is accounted for, in few rows: two kinds, at most 2 × (5 + 1) rows each a minute.
    assert.equal(counted('access_denied'), requests)
    assert.equal(counted('login_throttled') + counted('login_failed'), requests)
    assert.ok(rows <= (simulatedSeconds / 60) * 2 * 2 * 6 + 25, `${rows} rows`)
  })
})

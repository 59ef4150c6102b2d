/**
 * The life of an account as operators change it, over real HTTP, with sessions in SQLite,
 * PostgreSQL and Redis (SECURITY.md SE-10, SE-12, EN-01, RT-05, RT-07): a kick ends every session
 * and refresh family at once; a disabled account's sessions end, its sign-in reads as a wrong
 * password and its tokens are inactive; a deleted account leaves nothing but pseudonymous audit
 * events; an admin-set password ends every session and the user must choose another before
 * anything else works; the last administrator stays, even when two demotions race.
 */
import assert from 'node:assert/strict'
import { decodeJwt } from 'jose'
import { after, describe, it } from 'node:test'
import type { Stores } from '../../src/core/stores.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'
import { skipUnlessPostgres, skipUnlessRedis } from '../helpers/backends.ts'
import { sharePostgresSchema } from '../helpers/postgres.ts'
import { createTestRedisSettings, openTestRedisStores } from '../helpers/redis.ts'
import {
  logInWithCookie,
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  uniqueUsername,
  type TestResponse,
  type TestServer,
} from '../helpers/test-server.ts'
import { createIntrospectionClient, introspect, refresh, signInAsAdmin } from '../helpers/token-lifecycle.ts'

const sharedPostgres = sharePostgresSchema({ now: new Date() })
after(() => sharedPostgres.dropSchema())

interface Backend {
  name: string
  skip: string | false
  openStores(now: Date): Promise<Stores>
}

const backends: Backend[] = [
  { name: 'SQLite', skip: false, openStores: async (now) => openSqliteStores(':memory:', now) },
  { name: 'PostgreSQL', skip: await skipUnlessPostgres(), openStores: () => sharedPostgres.openStores() },
  {
    name: 'Redis',
    skip: await skipUnlessRedis(),
    openStores: (now) => openTestRedisStores(createTestRedisSettings(), now),
  },
]

/** A user with a token session and a cookie session. */
async function userWithSessions(server: TestServer) {
  const { username, id } = await registerUser(server)
  const tokens = await logInWithToken(server, username)
  const cookie = await logInWithCookie(server, username)
  return { username, id, tokens, cookie }
}

/** The problem body without what differs per request. */
function comparable(response: TestResponse) {
  const { instance: _instance, ...rest } = response.json as Record<string, unknown>
  return { status: response.status, body: rest, hasCookie: response.headers.get('set-cookie') !== null }
}

async function assertSessionsEnded(server: TestServer, user: Awaited<ReturnType<typeof userWithSessions>>) {
  assert.equal((await server.request('/v1/me', { bearer: user.tokens.access_token })).status, 401)
  assert.equal((await server.request('/v1/me', { cookie: user.cookie.cookie })).status, 401)
  const refreshed = await refresh(server, user.tokens.refresh_token)
  assert.equal(refreshed.status, 400)
  assert.equal(refreshed.json.code, 'invalid_grant')
}

for (const backend of backends) {
  describe(`account lifecycle with sessions in ${backend.name}`, { skip: backend.skip }, () => {
    const start = (t: Parameters<typeof startTestServer>[0], env: Record<string, string> = {}) =>
      startTestServer(t, env, { openStores: backend.openStores })

    it('lists a user by username and ends all their sessions and refresh families at once (kick)', async (t) => {
      const server = await start(t)
      const admin = await signInAsAdmin(server)
      const user = await userWithSessions(server)
      // The access token names the user for display; the subject stays the id.
      assert.deepEqual(
        [decodeJwt(user.tokens.access_token).preferred_username, decodeJwt(user.tokens.access_token).sub],
        [user.username, user.id],
      )
      const listed = await server.request(`/v1/admin/users/${user.username.toUpperCase()}/sessions`, {
        bearer: admin.access_token,
      })
      assert.equal(listed.status, 200, listed.text)
      assert.equal(listed.json.user.id, user.id)
      assert.deepEqual(listed.json.sessions.map((session: { transport: string }) => session.transport).sort(), [
        'cookie',
        'token',
      ])
      assert.ok(
        listed.json.sessions.every(
          (session: { ip: string; last_seen_at: string }) => session.ip !== '' && session.last_seen_at,
        ),
      )

      const kicked = await server.request(`/v1/admin/users/${user.id}/sessions`, {
        method: 'DELETE',
        bearer: admin.access_token,
      })
      assert.equal(kicked.status, 200, kicked.text)
      assert.equal(kicked.json.ended_sessions, 2)
      await assertSessionsEnded(server, user)
      assert.equal(
        (await server.request(`/v1/admin/users/${user.id}/sessions`, { bearer: admin.access_token })).json.sessions
          .length,
        0,
      )
      const event = server.auditEvents.find((candidate) => candidate.type === 'user_sessions_ended')
      assert.equal(event?.subjectUserId, user.id)
      assert.equal(event?.actorUserId, admin.id)
      assert.equal(event?.details.session_end_reason, 'kick')
      // A kick is not a ban: the next sign-in works.
      await logInWithToken(server, user.username)
    })

    it('disables a user: sessions end, sign-in reads as a wrong password, introspection says inactive; enable lets it in again', async (t) => {
      const server = await start(t)
      const admin = await signInAsAdmin(server)
      const client = await createIntrospectionClient(server)
      const user = await userWithSessions(server)
      assert.equal((await introspect(server, client, user.tokens.access_token)).json.active, true)

      const disabled = await server.request(`/v1/admin/users/${user.username}/disable`, {
        body: { reason: 'chargeback fraud, ticket 4711' },
        bearer: admin.access_token,
      })
      assert.equal(disabled.status, 200, disabled.text)
      assert.equal(disabled.json.ended_sessions, 2)
      assert.ok(disabled.json.user.disabled_at)
      await assertSessionsEnded(server, user)
      assert.deepEqual((await introspect(server, client, user.tokens.access_token)).json, { active: false })
      assert.deepEqual((await introspect(server, client, user.tokens.refresh_token)).json, { active: false })

      const rightPassword = await server.request('/v1/auth/login', {
        body: { username: user.username, password: strongPassword },
      })
      const wrongPassword = await server.request('/v1/auth/login', {
        body: { username: user.username, password: `${strongPassword}!` },
      })
      assert.equal(rightPassword.status, 401)
      assert.deepEqual(comparable(rightPassword), comparable(wrongPassword))
      const event = server.auditEvents.find((candidate) => candidate.type === 'user_disabled')
      assert.equal(event?.details.note, 'chargeback fraud, ticket 4711')
      assert.equal(event?.details.session_end_reason, 'disabled')
      assert.equal(
        server.auditEvents.filter((candidate) => candidate.type === 'login_failed').at(-2)?.reason,
        'account_disabled',
      )

      const tooLong = await server.request(`/v1/admin/users/${user.id}/disable`, {
        body: { reason: 'x'.repeat(201) },
        bearer: admin.access_token,
      })
      assert.equal(tooLong.status, 400)

      const enabled = await server.request(`/v1/admin/users/${user.id}/enable`, {
        method: 'POST',
        bearer: admin.access_token,
      })
      assert.equal(enabled.status, 200, enabled.text)
      assert.equal(enabled.json.disabled_at, null)
      // The sessions the disable ended stay ended.
      await assertSessionsEnded(server, user)
      await logInWithToken(server, user.username)
    })

    it('leaves no session alive when a disable races 60 sign-ins and 20 refreshes', async (t) => {
      // Throttles high enough for the burst: what is tested is the race, not the limits.
      const server = await start(t, {
        TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '90',
        TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '90',
        TESSERA_THROTTLE_IP_THRESHOLD: '1000',
        TESSERA_THROTTLE_REFRESH_THRESHOLD: '1000',
      })
      const admin = await signInAsAdmin(server)
      const { username, id } = await registerUser(server)
      const refreshTokens = await Promise.all(
        Array.from({ length: 20 }, async () => (await logInWithToken(server, username)).refresh_token),
      )
      // The disable is sent once a quarter of the answers are back: the rest are in flight around it.
      let answered = 0
      let disable: Promise<TestResponse> | null = null
      const counted = (response: Promise<TestResponse>) =>
        response.then((result) => {
          answered += 1
          if (answered === 20)
            disable = server.request(`/v1/admin/users/${id}/disable`, { body: {}, bearer: admin.access_token })
          return result
        })
      const signIns = Array.from({ length: 60 }, () =>
        counted(server.request('/v1/auth/login', { body: { username, password: strongPassword } })),
      )
      const refreshes = refreshTokens.map((token) => counted(refresh(server, token)))
      const results = await Promise.all([...signIns, ...refreshes])
      assert.ok(disable)
      assert.equal((await (disable as unknown as Promise<TestResponse>)).status, 200)
      // 503: a sign-in whose new session the disable deleted before its refresh family began; it grants nothing.
      assert.ok(
        results.every((response) => [200, 400, 401, 503].includes(response.status)),
        results.map((r) => r.status).join(','),
      )
      // Which side wins each race depends on the machine's load; whatever was granted must be over.
      const granted = results.filter((response) => response.status === 200)
      t.diagnostic(`${granted.length} of ${results.length} sign-ins and refreshes answered 200 around the disable`)
      for (const response of granted) {
        assert.equal((await server.request('/v1/me', { bearer: response.json.access_token })).status, 401)
        assert.equal((await refresh(server, response.json.refresh_token)).status, 400)
      }
      assert.deepEqual(
        (await server.request(`/v1/admin/users/${id}/sessions`, { bearer: admin.access_token })).json.sessions,
        [],
      )
    })

    it('deletes a user: sessions, refresh tokens and the account go, audit events stay under a pseudonym', async (t) => {
      const server = await start(t)
      const admin = await signInAsAdmin(server)
      const user = await userWithSessions(server)
      await server.request('/v1/auth/login', {
        body: { username: user.username, password: 'not the right one at all' },
      })
      const before = await server.request(`/v1/admin/audit?user=${user.username}`, { bearer: admin.access_token })
      assert.ok(before.json.events.length >= 3)

      const deleted = await server.request(`/v1/admin/users/${user.id}`, {
        method: 'DELETE',
        bearer: admin.access_token,
      })
      assert.equal(deleted.status, 204, deleted.text)
      await assertSessionsEnded(server, user)
      assert.equal((await server.request(`/v1/admin/users/${user.id}`, { bearer: admin.access_token })).status, 404)
      assert.equal(await server.stores.accounts.findUserById(user.id), null)
      assert.deepEqual(await server.stores.sessions.listUserSessions(user.id), [])
      // The trail no longer names the account; its events are found under the pseudonym.
      const byOldId = await server.request(`/v1/admin/audit?user=${user.id}`, { bearer: admin.access_token })
      assert.equal(byOldId.status, 404)
      const all = (await server.request('/v1/admin/audit?limit=500', { bearer: admin.access_token })).json
        .events as Array<Record<string, unknown>>
      const text = JSON.stringify(all)
      assert.ok(!text.includes(user.id), 'the user id is gone from the trail')
      assert.ok(
        !all.some((event) => event.username === user.username.toLowerCase()),
        'the username is gone from the trail',
      )
      const deletion = all.find((event) => event.type === 'user_deleted')
      const pseudonym = String(deletion?.subject_user_id)
      assert.match(pseudonym, /^~[A-Za-z0-9_-]{22}$/)
      assert.equal(deletion?.actor_user_id, admin.id)
      const kept = await server.request(`/v1/admin/audit?user=${encodeURIComponent(pseudonym)}&limit=500`, {
        bearer: admin.access_token,
      })
      assert.equal(kept.json.events.length, before.json.events.length + 1)
      // The name is free again; the new account shares nothing with the old one.
      const again = await registerUser(server, user.username)
      assert.notEqual(again.id, user.id)
    })

    it('lets a user delete their own account with the password and a recent authentication only', async (t) => {
      const server = await start(t)
      const user = await userWithSessions(server)
      const wrong = await server.request('/v1/me', {
        method: 'DELETE',
        body: { password: 'not my password at all' },
        bearer: user.tokens.access_token,
      })
      assert.equal(wrong.status, 401)
      assert.equal(wrong.json.code, 'invalid_credentials')
      server.clock.advanceSeconds(11 * 60)
      const stale = await server.request('/v1/me', {
        method: 'DELETE',
        body: { password: strongPassword },
        cookie: user.cookie.cookie,
        headers: { 'sec-fetch-site': 'same-origin' },
      })
      assert.equal(stale.status, 403)
      assert.equal(stale.json.code, 'reauthentication_required')
      const fresh = await logInWithToken(server, user.username)
      const done = await server.request('/v1/me', {
        method: 'DELETE',
        body: { password: strongPassword },
        bearer: fresh.access_token,
      })
      assert.equal(done.status, 204, done.text)
      assert.equal((await server.request('/v1/me', { bearer: fresh.access_token })).status, 401)
      assert.equal(
        (await server.request('/v1/auth/login', { body: { username: user.username, password: strongPassword } }))
          .status,
        401,
      )
      const deletion = server.auditEvents.find((event) => event.type === 'user_deleted')
      assert.equal(deletion?.reason, 'self_service')
      assert.equal(deletion?.actorUserId, deletion?.subjectUserId)
    })

    it('sets a password and requires a new one: old sessions end, and only the password change works until it is done', async (t) => {
      const server = await start(t)
      const admin = await signInAsAdmin(server)
      const user = await userWithSessions(server)
      const temporary = 'temporary passphrase from the helpdesk'
      const set = await server.request(`/v1/admin/users/${user.username}/password`, {
        method: 'PUT',
        body: { password: temporary },
        bearer: admin.access_token,
      })
      assert.equal(set.status, 200, set.text)
      assert.equal(set.json.password_change_required, true)
      await assertSessionsEnded(server, user)
      assert.equal(
        (await server.request('/v1/auth/login', { body: { username: user.username, password: strongPassword } }))
          .status,
        401,
      )

      const session = await logInWithToken(server, user.username, temporary)
      const blocked = await server.request('/v1/sessions', { bearer: session.access_token })
      assert.equal(blocked.status, 403)
      assert.equal(blocked.json.code, 'password_change_required')
      const me = await server.request('/v1/me', { bearer: session.access_token })
      assert.equal(me.status, 200)
      assert.equal(me.json.user.password_change_required, true)
      const changed = await server.request('/v1/me/password', {
        body: { current_password: temporary, new_password: 'my own new passphrase, at last' },
        bearer: session.access_token,
      })
      assert.equal(changed.status, 200, changed.text)
      assert.equal(changed.json.user.password_change_required, false)
      assert.equal((await server.request('/v1/sessions', { bearer: changed.json.access_token })).status, 200)

      const weak = await server.request(`/v1/admin/users/${user.id}/password`, {
        method: 'PUT',
        body: { password: 'short' },
        bearer: admin.access_token,
      })
      assert.equal(weak.status, 400)
      assert.equal(weak.json.code, 'password_too_short')
      // Requiring a change alone keeps the password, and applies to live sessions at once.
      const required = await server.request(`/v1/admin/users/${user.id}/password`, {
        method: 'PUT',
        body: {},
        bearer: admin.access_token,
      })
      assert.equal(required.status, 200)
      const live = await server.request('/v1/sessions', { bearer: changed.json.access_token })
      assert.equal(live.json.code, 'password_change_required')
    })

    it('shows who is online with their live sessions, and counts the users active in the last 5 minutes', async (t) => {
      const server = await start(t)
      const admin = await signInAsAdmin(server)
      const idle = await userWithSessions(server)
      const busy = await userWithSessions(server)
      const gone = await userWithSessions(server)
      assert.equal(
        (await server.request(`/v1/admin/users/${gone.id}/disable`, { body: {}, bearer: admin.access_token })).status,
        200,
      )
      server.clock.advanceSeconds(6 * 60)
      assert.equal((await server.request('/v1/me', { bearer: busy.tokens.access_token })).status, 200)
      assert.equal((await server.request('/v1/me', { bearer: admin.access_token })).status, 200)
      const presence = await server.request('/v1/admin/presence', { bearer: admin.access_token })
      assert.equal(presence.status, 200, presence.text)
      assert.equal(presence.json.active_within, 300)
      assert.equal(presence.json.active_users, 2, 'the admin and the busy user')
      const byId = new Map(presence.json.users.map((entry: { user: { id: string } }) => [entry.user.id, entry]))
      assert.equal(byId.has(gone.id), false, 'a disabled user is not online')
      assert.equal((byId.get(idle.id) as { sessions: unknown[] }).sessions.length, 2)
      assert.equal(presence.json.users[0].user.id === busy.id || presence.json.users[0].user.id === admin.id, true)
      const narrow = await server.request('/v1/admin/presence?active_within=60&limit=1', { bearer: admin.access_token })
      assert.equal(narrow.json.users.length, 1)
      assert.equal(narrow.json.active_users, 2)
    })

    it('refuses to demote, disable or delete the last enabled admin, and lets only one of two racing demotions through', async (t) => {
      const server = await start(t)
      const admin = await signInAsAdmin(server)
      const attempts: Array<[string, string, unknown]> = [
        ['PUT', `/v1/admin/users/${admin.id}/roles`, { roles: ['user'] }],
        ['POST', `/v1/admin/users/${admin.id}/disable`, {}],
        ['DELETE', `/v1/admin/users/${admin.id}`, undefined],
      ]
      for (const [method, path, body] of attempts) {
        const refused = await server.request(path, { method, body, bearer: admin.access_token })
        assert.equal(refused.status, 409, `${method} ${path}: ${refused.text}`)
        assert.equal(refused.json.code, 'last_admin')
      }
      const selfDelete = await server.request('/v1/me', {
        method: 'DELETE',
        body: { password: strongPassword },
        bearer: admin.access_token,
      })
      assert.equal(selfDelete.json.code, 'last_admin')
      const refusals = server.auditEvents.filter(
        (event) => event.type === 'admin_change_refused' && event.reason === 'last_admin',
      )
      assert.deepEqual(refusals.map((event) => event.details.action).sort(), [
        'delete',
        'delete',
        'disable',
        'revoke_admin',
      ])

      for (let round = 0; round < 10; round += 1) {
        const otherName = uniqueUsername('admin')
        const created = await server.application.accountAdmin.createUser(
          { username: otherName, password: strongPassword, roles: ['admin', 'user'] },
          { actorUserId: null, context: { ip: null, userAgent: 'test', requestId: null } },
        )
        const other = { id: created.id, ...(await logInWithToken(server, otherName)) }
        // Both admins demote each other (or disable, or delete) at the same moment.
        const [first, second] = await Promise.all([
          server.request(`/v1/admin/users/${other.id}/roles`, {
            method: 'PUT',
            body: { roles: ['user'] },
            bearer: admin.access_token,
          }),
          round % 2 === 0
            ? server.request(`/v1/admin/users/${admin.id}/roles`, {
                method: 'PUT',
                body: { roles: ['user'] },
                bearer: other.access_token,
              })
            : server.request(`/v1/admin/users/${admin.id}/disable`, { body: {}, bearer: other.access_token }),
        ])
        const statuses = [first.status, second.status].sort()
        // One wins; the other is refused as last_admin, or finds its caller demoted already (403).
        assert.equal(statuses.filter((status) => status === 200).length, 1, `${first.text} ${second.text}`)
        const admins = (
          await server.request('/v1/admin/users?limit=500', {
            bearer: first.status === 200 ? admin.access_token : other.access_token,
          })
        ).json.users.filter(
          (user: { roles: string[]; disabled_at: string | null }) =>
            user.roles.includes('admin') && user.disabled_at === null,
        )
        assert.equal(admins.length, 1)
        if (second.status === 200) {
          // The other admin won: carry on as it.
          Object.assign(admin, other)
        }
      }
    })
  })
}

describe('a required password change on the hosted pages', () => {
  it('shows only the password page until the password is changed', async (t) => {
    const server = await startTestServer(t)
    const admin = await signInAsAdmin(server)
    const { username, id } = await registerUser(server)
    await server.request(`/v1/admin/users/${id}/password`, { method: 'PUT', body: {}, bearer: admin.access_token })
    const { cookie } = await logInWithCookie(server, username)
    // Every other page sends the browser to the password page; the API refuses with the code.
    const account = await fetch(`${server.url}/account`, { headers: { cookie }, redirect: 'manual' })
    assert.equal(account.status, 303)
    assert.equal(account.headers.get('location'), '/account/password?notice=required')
    assert.equal((await server.request('/v1/sessions', { cookie })).json?.code, 'password_change_required')
    assert.equal((await server.request('/account/password', { cookie })).status, 200)
  })
})

describe('finding users', () => {
  it('finds users by a prefix of the normalised username, page by page, and accepts a username wherever an id is', async (t) => {
    const server = await startTestServer(t)
    const admin = await signInAsAdmin(server)
    const stem = uniqueUsername('Quartz')
    for (const suffix of ['a', 'b', 'c']) await registerUser(server, `${stem}${suffix}`)
    await registerUser(server, uniqueUsername('other'))
    const query = encodeURIComponent(stem.toUpperCase().replace('Q', 'Ｑ'))
    const first = await server.request(`/v1/admin/users?query=${query}&limit=2`, { bearer: admin.access_token })
    assert.equal(first.status, 200, first.text)
    assert.deepEqual(
      first.json.users.map((user: { username: string }) => user.username),
      [`${stem}a`, `${stem}b`],
    )
    const second = await server.request(`/v1/admin/users?query=${query}&limit=2&cursor=${first.json.next_cursor}`, {
      bearer: admin.access_token,
    })
    assert.deepEqual(
      second.json.users.map((user: { username: string }) => user.username),
      [`${stem}c`],
    )
    assert.equal(second.json.next_cursor, null)
    assert.deepEqual(
      (await server.request('/v1/admin/users?query=%E2%80%AE', { bearer: admin.access_token })).json.users,
      [],
    )

    const roles = await server.request(`/v1/admin/users/${stem}a/roles`, {
      method: 'PUT',
      body: { roles: ['user', 'support'] },
      bearer: admin.access_token,
    })
    assert.equal(roles.status, 200, roles.text)
    assert.deepEqual(roles.json.roles, ['support', 'user'])
    const shown = await server.request(`/v1/admin/users/${stem}A`, { bearer: admin.access_token })
    assert.equal(shown.json.username, `${stem}a`)
    const audit = await server.request(`/v1/admin/audit?user=${stem}a`, { bearer: admin.access_token })
    assert.equal(audit.status, 200)
    assert.ok(audit.json.events.some((event: { type: string }) => event.type === 'role_granted'))
    for (const path of [
      '/v1/admin/audit?user=nobody-here',
      '/v1/admin/users/nobody-here',
      '/v1/admin/users/nobody-here/roles',
    ]) {
      const method = path.endsWith('/roles') ? 'PUT' : 'GET'
      const missing = await server.request(path, {
        method,
        body: method === 'PUT' ? { roles: [] } : undefined,
        bearer: admin.access_token,
      })
      assert.equal(missing.status, 404, path)
      assert.equal(missing.json.code, 'not_found')
    }
  })
})

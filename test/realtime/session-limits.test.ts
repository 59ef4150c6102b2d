/**
 * Session limits per role (TESSERA_SESSION_LIMITS) over real HTTP, on every session store: the
 * limit holds under many parallel sign-ins of one user (never one session more), `end_oldest`
 * ends the oldest and tells its holder `signed_in_elsewhere` (requests and refresh alike), and
 * `refuse` answers `session_limit_reached`.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
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
} from '../helpers/test-server.ts'
import { refresh } from '../helpers/token-lifecycle.ts'

const parallelSignIns = 60
const postgres = sharePostgresSchema({ now: new Date() })
after(() => postgres.dropSchema())

const backends: Array<{ name: string; skip: string | false; openStores: (now: Date) => Promise<Stores> }> = [
  { name: 'SQLite', skip: false, openStores: async (now) => openSqliteStores(':memory:', now) },
  { name: 'PostgreSQL', skip: await skipUnlessPostgres(), openStores: () => postgres.openStores() },
  {
    name: 'Redis',
    skip: await skipUnlessRedis(),
    openStores: (now) =>
      openTestRedisStores(
        createTestRedisSettings({ keyPrefix: `tessera-test-limits-${randomBytes(4).toString('hex')}` }),
        now,
      ),
  },
]

const generousThrottle = { TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '90', TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '90' }

for (const backend of backends) {
  describe(`session limits on ${backend.name}`, { skip: backend.skip }, () => {
    it(`end_oldest keeps exactly N live sessions after ${parallelSignIns} parallel sign-ins of one user`, async (t) => {
      const server = await startTestServer(
        t,
        { ...generousThrottle, TESSERA_SESSION_LIMITS: 'user:3' },
        { openStores: backend.openStores },
      )
      const { username, id } = await registerUser(server)
      const body = { username, password: strongPassword }
      const answers = await Promise.all(
        Array.from({ length: parallelSignIns }, () => server.request('/v1/auth/login', { body })),
      )
      assert.deepEqual(
        [...new Set(answers.map((answer) => answer.status))],
        [200],
        answers.find((answer) => answer.status !== 200)?.text,
      )
      const live = await server.application.accountAdmin.listUserSessions(id)
      assert.equal(live.length, 3)
      // Every ended session's holder is told why, on a request and on a refresh.
      const liveIds = new Set(live.map((session) => session.id))
      const ended = answers.map((answer) => answer.json).filter((json) => !liveIds.has(json.session_id))
      assert.equal(ended.length, parallelSignIns - 3)
      const sample = ended.slice(0, 5)
      for (const json of sample) {
        const me = await server.request('/v1/me', { bearer: json.access_token })
        assert.equal(me.status, 401)
        assert.equal(me.json.code, 'invalid_token')
        assert.equal(me.json.reason, 'signed_in_elsewhere')
        const refreshed = await refresh(server, json.refresh_token)
        assert.equal(refreshed.status, 400)
        assert.equal(refreshed.json.code, 'invalid_grant')
        assert.equal(refreshed.json.reason, 'signed_in_elsewhere')
      }
      for (const session of live) {
        const json = answers.map((answer) => answer.json).find((candidate) => candidate.session_id === session.id)
        assert.equal((await server.request('/v1/me', { bearer: json.access_token })).status, 200)
      }
    })

    it(`refuse admits exactly N of ${parallelSignIns} parallel sign-ins and refuses the rest with session_limit_reached`, async (t) => {
      const server = await startTestServer(
        t,
        { ...generousThrottle, TESSERA_SESSION_LIMITS: 'user:2:refuse' },
        { openStores: backend.openStores },
      )
      const { username, id } = await registerUser(server)
      const body = { username, password: strongPassword }
      const answers = await Promise.all(
        Array.from({ length: parallelSignIns }, () => server.request('/v1/auth/login', { body })),
      )
      const admitted = answers.filter((answer) => answer.status === 200)
      const refused = answers.filter((answer) => answer.status === 409)
      assert.equal(admitted.length, 2)
      assert.equal(refused.length, parallelSignIns - 2)
      assert.equal(refused[0]?.json.code, 'session_limit_reached')
      assert.equal(refused[0]?.json.max_sessions, 2)
      assert.equal((await server.application.accountAdmin.listUserSessions(id)).length, 2)
      // Signing out frees a place.
      const first = admitted[0]?.json
      assert.equal(
        (await server.request('/v1/auth/logout', { method: 'POST', bearer: first.access_token })).status,
        204,
      )
      await logInWithToken(server, username)
    })

    it('end_oldest tells a cookie session ended by the limit why, and spares users of other roles', async (t) => {
      const server = await startTestServer(
        t,
        { TESSERA_SESSION_LIMITS: 'player:1' },
        { openStores: backend.openStores },
      )
      const player = await registerUser(server)
      const actor = { actorUserId: null, context: { ip: null, userAgent: 'test', requestId: null } }
      await server.application.accountAdmin.replaceUserRoles(player.id, ['player', 'user'], actor)
      const first = await logInWithCookie(server, player.username)
      await logInWithToken(server, player.username)
      const me = await server.request('/v1/me', { cookie: first.cookie })
      assert.equal(me.status, 401)
      assert.equal(me.json.reason, 'signed_in_elsewhere')
      const other = await registerUser(server)
      const sessions = await Promise.all([
        logInWithToken(server, other.username),
        logInWithToken(server, other.username),
      ])
      for (const session of sessions)
        assert.equal((await server.request('/v1/me', { bearer: session.access_token })).status, 200)
      // A session ended otherwise says nothing more than before.
      const out = sessions[0]
      await server.request('/v1/auth/logout', { method: 'POST', bearer: out?.access_token ?? '' })
      const after = await server.request('/v1/me', { bearer: out?.access_token ?? '' })
      assert.equal(after.status, 401)
      assert.equal(after.json.reason, undefined)
    })
  })
}

/**
 * One-time tickets over real HTTP, on every backend that can hold them: a signed-in player gets a
 * ticket, a game server redeems it once with its service-client credentials and learns who the
 * player is; every other redemption gets the same `invalid_ticket`, and of 100 simultaneous
 * redemptions of one ticket exactly one succeeds.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { ticketKeyOf } from '../../src/core/application/tickets.ts'
import type { Stores } from '../../src/core/stores.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'
import { skipUnlessPostgres, skipUnlessRedis } from '../helpers/backends.ts'
import { openTestPostgresStores } from '../helpers/postgres.ts'
import { createTestRedisSettings, openTestRedisStores } from '../helpers/redis.ts'
import {
  logInWithCookie,
  logInWithToken,
  registerUser,
  startTestServer,
  type TestServer,
} from '../helpers/test-server.ts'
import { createIntrospectionClient, type IntrospectionClient } from '../helpers/token-lifecycle.ts'

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

async function startWithPlayer(t: TestContext, backend: Backend) {
  const server = await startTestServer(t, {}, { openStores: backend.openStores })
  const { username, id } = await registerUser(server)
  const tokens = await logInWithToken(server, username)
  const client = await createIntrospectionClient(server)
  return { server, username, userId: id, tokens, client }
}

function issue(server: TestServer, bearer: string, audience = 'match-server') {
  return server.request('/v1/tickets', { body: { audience }, bearer })
}

function redeem(server: TestServer, client: IntrospectionClient, ticket: string, audience = 'match-server') {
  return server.request('/v1/tickets/redeem', {
    body: { ticket, audience },
    headers: { authorization: client.authorization },
  })
}

function assertRefused(response: { status: number; json: any; headers: Headers }, name: string) {
  assert.equal(response.status, 400, name)
  assert.equal(response.json.code, 'invalid_ticket', name)
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, name)
  assert.equal(response.json.detail, 'The ticket is not valid: ask the player for a new one.', name)
}

for (const backend of backends) {
  describe(`one-time tickets (${backend.name})`, { skip: backend.skip }, () => {
    it('a ticket redeemed by a service client names the player, its session and roles, once', async (t) => {
      const { server, username, userId, tokens, client } = await startWithPlayer(t, backend)
      const issued = await issue(server, tokens.access_token)
      assert.equal(issued.status, 201)
      assert.equal(issued.json.audience, 'match-server')
      assert.equal(issued.json.expires_in, 30)
      // The issue time in milliseconds (12 hex digits), then 256 random bits.
      assert.match(issued.json.ticket, /^[0-9a-f]{12}[A-Za-z0-9_-]{43}$/)
      assert.equal(parseInt(issued.json.ticket.slice(0, 12), 16), server.clock.now().getTime())
      assert.equal(Date.parse(issued.json.expires_at), server.clock.now().getTime() + 30_000)
      assert.equal(issued.headers.get('cache-control'), 'no-store')

      const redeemed = await redeem(server, client, issued.json.ticket)
      assert.equal(redeemed.status, 200)
      assert.deepEqual(redeemed.json, { sub: userId, session_id: tokens.session_id, roles: ['user'], username })
      assertRefused(await redeem(server, client, issued.json.ticket), 'second redemption')
    })

    it('refuses alike a ticket for another audience, an expired one, one of an ended session and an unknown one', async (t) => {
      const { server, tokens, client } = await startWithPlayer(t, backend)
      const otherAudience = (await issue(server, tokens.access_token)).json.ticket
      assertRefused(await redeem(server, client, otherAudience, 'chat-server'), 'other audience')
      // Spent by the refused attempt: a ticket shown to the wrong server is not usable anywhere.
      assertRefused(await redeem(server, client, otherAudience), 'after a wrong audience')

      const expiring = (await issue(server, tokens.access_token)).json.ticket
      server.clock.advanceSeconds(30)
      assertRefused(await redeem(server, client, expiring), 'expired')

      const { username } = await registerUser(server)
      const other = await logInWithToken(server, username)
      const ofEndedSession = (await issue(server, other.access_token)).json.ticket
      const loggedOut = await server.request('/v1/auth/logout', { method: 'POST', bearer: other.access_token })
      assert.equal(loggedOut.status, 204)
      assertRefused(await redeem(server, client, ofEndedSession), 'ended session')

      assertRefused(await redeem(server, client, 'A'.repeat(43)), 'unknown')
    })

    it('keeps tickets under keys in issue order, and refuses a ticket whose time was changed', async (t) => {
      const { server, tokens, client } = await startWithPlayer(t, backend)
      const tickets: string[] = []
      for (let index = 0; index < 5; index += 1) {
        tickets.push((await issue(server, tokens.access_token)).json.ticket)
        server.clock.advanceSeconds(1)
      }
      const keys = tickets.map(ticketKeyOf)
      assert.deepEqual([...keys].sort(), keys)
      for (const [index, key] of keys.entries()) assert.ok(!key.includes(tickets[index]!.slice(12)), 'no secret part')

      const [first] = tickets as [string]
      const earlier = (parseInt(first.slice(0, 12), 16) - 1).toString(16).padStart(12, '0')
      assertRefused(await redeem(server, client, earlier + first.slice(12)), 'time changed')
      assertRefused(await redeem(server, client, first.slice(0, 12)), 'time alone')
      assertRefused(await redeem(server, client, 'x'), 'shorter than a time')
      // The forged ones spent nothing: the real ticket still redeems.
      assert.equal((await redeem(server, client, first)).status, 200)
    })

    it('only a service client redeems, and only a signed-in player gets a ticket', async (t) => {
      const { server, tokens, client } = await startWithPlayer(t, backend)
      const ticket = (await issue(server, tokens.access_token)).json.ticket
      const anonymous = await server.request('/v1/tickets/redeem', { body: { ticket, audience: 'match-server' } })
      assert.equal(anonymous.status, 401)
      assert.equal(anonymous.json.code, 'invalid_client')
      const asPlayer = await server.request('/v1/tickets/redeem', {
        body: { ticket, audience: 'match-server' },
        bearer: tokens.access_token,
      })
      assert.equal(asPlayer.status, 401)
      // Neither attempt spent it.
      assert.equal((await redeem(server, client, ticket)).status, 200)

      const unsigned = await server.request('/v1/tickets', { body: { audience: 'match-server' } })
      assert.equal(unsigned.status, 401)
      assert.equal(unsigned.json.code, 'unauthenticated')
      for (const audience of ['', 'with space', 'x'.repeat(129)]) {
        const response = await issue(server, tokens.access_token, audience)
        assert.equal(response.status, 400, JSON.stringify(audience))
        assert.equal(response.json.code, 'validation_failed')
      }
    })

    it('a cookie session gets a ticket from a same-origin request only', async (t) => {
      const { server, client } = await startWithPlayer(t, backend)
      const { username } = await registerUser(server)
      const { cookie } = await logInWithCookie(server, username)
      const crossSite = await server.request('/v1/tickets', {
        body: { audience: 'match-server' },
        cookie,
        headers: { origin: 'https://evil.example' },
      })
      assert.equal(crossSite.status, 403)
      assert.equal(crossSite.json.code, 'csrf_rejected')
      const sameOrigin = await server.request('/v1/tickets', {
        body: { audience: 'match-server' },
        cookie,
        headers: { origin: new URL(server.config.tokens.issuer).origin },
      })
      assert.equal(sameOrigin.status, 201)
      assert.equal((await redeem(server, client, sameOrigin.json.ticket)).json.username, username)
    })

    it('of 100 simultaneous redemptions of one ticket exactly one succeeds', async (t) => {
      const { server, tokens, client } = await startWithPlayer(t, backend)
      const ticket = (await issue(server, tokens.access_token)).json.ticket
      const responses = await Promise.all(Array.from({ length: 100 }, () => redeem(server, client, ticket)))
      const statuses = responses.map((response) => response.status)
      assert.equal(statuses.filter((status) => status === 200).length, 1, statuses.join(','))
      assert.equal(statuses.filter((status) => status === 400).length, 99)
      for (const response of responses.filter((answer) => answer.status === 400))
        assert.equal(response.json.code, 'invalid_ticket')
    })
  })
}

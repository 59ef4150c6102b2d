/**
 * Changes that span PostgreSQL and Redis fail closed. A Tessera node runs on the shared PostgreSQL
 * (its own schema) and on a Redis of this test's own, reached through a proxy that reads the Redis
 * protocol. For each operation below, the test first counts the Redis commands it sends, then,
 * at several of those points, kills Redis exactly as that command arrives, lets the answer come,
 * starts Redis again and looks at what is left:
 *
 *   - an answer of success means the change is in force, with its audit event;
 *   - an answer of 503 means either nothing changed (and no event claims it did), or the change is
 *     in force in its safe form: its event is there and no session that it ends lives on.
 *
 * Never a change in force that the client was told failed while old sessions live, never a change
 * without its event. Redis runs with an fsynced append-only file, so what it acknowledged survives.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../../src/config/load.ts'
import { createOfflineContext } from '../../src/core/application/types.ts'
import { buildApp } from '../../src/http/app.ts'
import { openRuntime, type Runtime } from '../../src/runtime.ts'
import { skipUnlessPostgresAndRedis, testPostgresUrl, uniqueTestName } from '../helpers/backends.ts'
import { dropTestSchema } from '../helpers/postgres.ts'
import { startOwnRedisServer, type OwnRedisServer } from '../helpers/redis.ts'
import { startRedisFaultProxy, type RedisFaultProxy } from '../helpers/redis-fault-proxy.ts'

const skip = await skipUnlessPostgresAndRedis()
const root = mkdtempSync(join(tmpdir(), 'tessera-cross-faults-'))
const schema = uniqueTestName('tessera_cross_faults')
const password = 'correct horse battery staple'
const newPassword = 'a brand new passphrase for the fault test'
/** Fault points per operation, spread over the commands it sends. */
const pointsPerOperation = 5

let redis: OwnRedisServer | null = null
let proxy: RedisFaultProxy | null = null
let runtime: Runtime | null = null
let app: FastifyInstance | null = null
let url = ''

before(async () => {
  if (skip) return
  redis = await startOwnRedisServer({ isPersistent: true })
  proxy = await startRedisFaultProxy({ port: redis.port })
  const config = loadConfig({
    TESSERA_DATA_DIR: join(root, 'data'),
    TESSERA_LOG_LEVEL: 'silent',
    TESSERA_PORT: '0',
    TESSERA_PUBLIC_URL: 'http://tessera.test',
    TESSERA_DATABASE_URL: testPostgresUrl,
    TESSERA_DATABASE_SCHEMA: schema,
    TESSERA_DATABASE_MIGRATE_ON_START: 'true',
    TESSERA_REDIS_URL: proxy.url,
    TESSERA_BACKEND_TIMEOUT: '1s',
    // Every request reads the stores: no copy may hide what a fault left behind.
    TESSERA_SESSION_CACHE_TTL: '0',
    TESSERA_ARGON2_MEMORY_KIB: '12288',
    TESSERA_ARGON2_PASSES: '3',
    TESSERA_SCHEDULER_ENABLED: 'false',
    // The test signs in hundreds of times from one address; throttling has its own tests.
    TESSERA_THROTTLE_IP_THRESHOLD: '100000',
    TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '90',
    TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '90',
  })
  runtime = await openRuntime(config, undefined, undefined, { onBackgroundError: () => {} })
  app = await buildApp({ config, application: runtime.application, logger: false })
  url = await app.listen({ host: '127.0.0.1', port: 0 })
})

after(async () => {
  await app?.close()
  await runtime?.close()
  await proxy?.close()
  await redis?.stop()
  if (!skip) await dropTestSchema(schema)
  rmSync(root, { recursive: true, force: true })
})

async function send(path: string, init: { method?: string; body?: unknown; bearer?: string } = {}) {
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.bearer === undefined ? {} : { authorization: `Bearer ${init.bearer}` }),
    },
    body: init.body === undefined ? null : JSON.stringify(init.body),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await response.text()
  return { status: response.status, json: text === '' ? null : JSON.parse(text) }
}

let userCounter = 0

async function createUser(roles: string[] = ['user']) {
  userCounter += 1
  const username = `fault${userCounter}_${process.pid}`
  const actor = { actorUserId: null, context: createOfflineContext('cli') }
  const user = await runtime!.application.accountAdmin.createUser({ username, password, roles }, actor)
  return { id: user.id, username }
}

async function signIn(username: string, secret = password) {
  return send('/v1/auth/login', { body: { username, password: secret } })
}

async function eventsOf(userId: string, type: string) {
  const page = await runtime!.application.auditTrail.queryEvents(
    { userId, types: [type as 'password_changed'] },
    { after: null, limit: 50 },
  )
  return page.events
}

async function waitUntilReady(): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.status,
      () => 0,
    )
    // A signed-in request proves the bus and the session store answer again, not only a ping.
    if (ready === 200 && (await signIn('nobody-at-all')).status === 401) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('the node did not recover within 15 s of Redis coming back')
}

/** The points at which Redis is killed: spread over `count` commands, first and last included. */
function faultPoints(count: number): number[] {
  if (count <= pointsPerOperation) return Array.from({ length: count }, (_, index) => index + 1)
  const points = Array.from(
    { length: pointsPerOperation },
    (_, index) => 1 + Math.round((index * (count - 1)) / (pointsPerOperation - 1)),
  )
  return [...new Set(points)]
}

interface Scenario<State> {
  /** Builds fresh state for one run (Redis is up). */
  prepare(): Promise<State>
  /** Sends the operation; returns the HTTP status. */
  act(state: State): Promise<number>
  /** Once Redis is back: checks what the answer and the state left behind say. */
  check(state: State, status: number, point: string): Promise<void>
}

type Fault = 'kill' | 'pause'

/**
 * Counts the operation's Redis commands, then stops Redis at several of them: killed (a crash;
 * started again after the answer) or paused with SIGSTOP (a hung server; SIGCONT after the
 * answer, when what it had received runs late).
 */
async function runWithFaults<State>(
  scenario: Scenario<State>,
  fault: Fault = 'kill',
): Promise<{ commands: number; outcomes: Record<number, number> }> {
  if (!proxy || !redis) throw new Error('setup failed')
  const dry = await scenario.prepare()
  proxy.countFrom()
  const dryStatus = await scenario.act(dry)
  const commands = proxy.commandCount()
  await scenario.check(dry, dryStatus, 'without a fault')
  assert.ok(dryStatus < 300, `without a fault the operation succeeds (got ${dryStatus})`)
  const outcomes: Record<number, number> = {}
  for (const point of faultPoints(commands)) {
    const state = await scenario.prepare()
    const server = redis
    if (fault === 'kill') {
      proxy.failAt(point, () => server.kill())
    } else {
      // A paused server keeps its connections: the proxy forwards the command, then nothing answers.
      proxy.pauseAt(point, () => server.pause())
    }
    const startedAt = performance.now()
    const status = await scenario.act(state)
    const elapsedMs = performance.now() - startedAt
    outcomes[status] = (outcomes[status] ?? 0) + 1
    // The last points may fall after the answer (a tidy-up, a heartbeat): nothing to undo then.
    if (proxy.disarm()) {
      if (fault === 'kill') await redis.start()
      else server.resume()
    }
    await waitUntilReady()
    await scenario.check(
      state,
      status,
      `Redis ${fault === 'kill' ? 'killed' : 'paused'} at command ${point} of ${commands}`,
    )
    // Bounded by the backend timeout (1 s) for each call the operation makes after the fault.
    assert.ok(elapsedMs < 6000, `the answer took ${Math.round(elapsedMs)} ms`)
  }
  return { commands, outcomes }
}

interface SignedIn {
  access_token: string
  refresh_token: string
  session_id: string
}

const passwordChange: Scenario<{ user: { id: string; username: string }; acting: SignedIn; other: SignedIn }> = {
  async prepare() {
    const user = await createUser()
    const acting = (await signIn(user.username)).json
    const other = (await signIn(user.username)).json
    return { user, acting, other }
  },
  async act({ acting }) {
    return (
      await send('/v1/me/password', {
        bearer: acting.access_token,
        body: { current_password: password, new_password: newPassword },
      })
    ).status
  },
  async check({ user, other }, status, point) {
    assert.ok([200, 503].includes(status), `${point}: answered ${status}`)
    const isNewInForce = (await signIn(user.username, newPassword)).status === 200
    const isOldInForce = (await signIn(user.username)).status === 200
    assert.notEqual(isNewInForce, isOldInForce, `${point}: exactly one password works`)
    const isOtherAlive = (await send('/v1/me', { bearer: other.access_token })).status === 200
    const recorded = (await eventsOf(user.id, 'password_changed')).length
    if (status === 200) assert.ok(isNewInForce, `${point}: a success means the new password works`)
    if (isNewInForce) {
      assert.equal(isOtherAlive, false, `${point}: the new password works while an old session lives`)
      assert.equal(recorded, 1, `${point}: the change is in force without its event`)
    } else {
      assert.equal(recorded, 0, `${point}: an event records a change that is not in force`)
    }
  },
}

const signOut: Scenario<{ user: { id: string; username: string }; session: SignedIn }> = {
  async prepare() {
    const user = await createUser()
    return { user, session: (await signIn(user.username)).json }
  },
  async act({ session }) {
    return (await send('/v1/auth/logout', { method: 'POST', bearer: session.access_token })).status
  },
  async check({ user, session }, status, point) {
    assert.ok([204, 503].includes(status), `${point}: answered ${status}`)
    const isAlive = (await send('/v1/me', { bearer: session.access_token })).status === 200
    const isRefreshable =
      (await send('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } })).status === 200
    const recorded = (await eventsOf(user.id, 'logged_out')).length
    if (status === 204) assert.equal(isAlive, false, `${point}: a success means the session ended`)
    assert.equal(isAlive, recorded === 0, `${point}: alive ${isAlive}, ${recorded} logged_out events`)
    if (!isAlive) assert.equal(isRefreshable, false, `${point}: an ended session's refresh token still works`)
  },
}

describe('changes across PostgreSQL and Redis under a Redis fault', { skip, timeout: 180_000 }, () => {
  it('a password change answered 503 is either not in force or in force with its event and no old session alive', async (t) => {
    const result = await runWithFaults(passwordChange)
    t.diagnostic(
      `password change: ${result.commands} Redis commands; answers at the fault points: ${JSON.stringify(result.outcomes)}`,
    )
    assert.ok(result.outcomes[503], 'some fault points were felt')
  })

  it('a sign-out answered 503 leaves the session either alive and unrecorded, or ended and recorded', async (t) => {
    const result = await runWithFaults(signOut)
    t.diagnostic(
      `sign-out: ${result.commands} Redis commands; answers at the fault points: ${JSON.stringify(result.outcomes)}`,
    )
  })

  it('with Redis paused (hung) instead of killed, a password change and a sign-out hold the same rules and answer within the backend timeout', async (t) => {
    const changed = await runWithFaults(passwordChange, 'pause')
    const signedOut = await runWithFaults(signOut, 'pause')
    t.diagnostic(
      `paused: password change ${JSON.stringify(changed.outcomes)}, sign-out ${JSON.stringify(signedOut.outcomes)}`,
    )
    assert.ok(changed.outcomes[503], 'some pause points were felt')
  })

  it('a second sign-in step answered 503 spent its recovery code with its event and handed out nothing, or spent nothing', async (t) => {
    const result = await runWithFaults({
      async prepare() {
        const user = await createUser()
        const { access_token: bearer } = (await signIn(user.username)).json
        const started = await send('/v1/me/mfa/totp', { method: 'POST', bearer })
        const { decodeBase32, generateTotp } = await import('../../src/core/second-factor/totp.ts')
        const code = generateTotp(decodeBase32(started.json.secret), Date.now())
        const { recovery_codes: codes } = (await send('/v1/me/mfa/totp/confirm', { bearer, body: { code } })).json
        const challenge = (await signIn(user.username)).json.mfa_challenge
        return { user, challenge, recoveryCode: codes[0] as string, spare: codes[1] as string }
      },
      async act({ challenge, recoveryCode }) {
        return (await send('/v1/auth/mfa', { body: { challenge, recovery_code: recoveryCode } })).status
      },
      async check({ user, recoveryCode }, status, point) {
        assert.ok([200, 503].includes(status), `${point}: answered ${status}`)
        const recorded = (await eventsOf(user.id, 'recovery_code_used')).length
        const retry = await send('/v1/auth/mfa', {
          body: { challenge: (await signIn(user.username)).json.mfa_challenge, recovery_code: recoveryCode },
        })
        const wasSpent = retry.status !== 200
        if (status === 200) assert.ok(wasSpent, `${point}: a success spent the code`)
        assert.equal(recorded, wasSpent ? 1 : 0, `${point}: spent ${wasSpent}, ${recorded} recovery_code_used events`)
      },
    })
    t.diagnostic(
      `second step: ${result.commands} Redis commands; answers at the fault points: ${JSON.stringify(result.outcomes)}`,
    )
  })

  it("ending all of one's sessions answered 503 ends each session with its event, or leaves it alive without one", async (t) => {
    const result = await runWithFaults({
      async prepare() {
        const user = await createUser()
        const sessions = [(await signIn(user.username)).json, (await signIn(user.username)).json]
        return { user, sessions }
      },
      async act({ sessions }) {
        return (await send('/v1/sessions?scope=all', { method: 'DELETE', bearer: sessions[0].access_token })).status
      },
      async check({ user, sessions }, status, point) {
        assert.ok([200, 503].includes(status), `${point}: answered ${status}`)
        const recorded = new Set(
          [...(await eventsOf(user.id, 'logged_out')), ...(await eventsOf(user.id, 'session_revoked'))].map(
            (event) => event.sessionId,
          ),
        )
        for (const session of sessions) {
          const isAlive = (await send('/v1/me', { bearer: session.access_token })).status === 200
          if (status === 200) assert.equal(isAlive, false, `${point}: a success means every session ended`)
          assert.equal(
            isAlive,
            !recorded.has(session.session_id),
            `${point}: session alive ${isAlive}, recorded ${recorded.has(session.session_id)}`,
          )
        }
      },
    })
    t.diagnostic(
      `end all sessions: ${result.commands} Redis commands; answers at the fault points: ${JSON.stringify(result.outcomes)}`,
    )
  })

  it("a role change answered 503 is either not made, or made with its event and seen by the user's sessions", async (t) => {
    const admin = await createUser(['admin', 'user'])
    const result = await runWithFaults({
      async prepare() {
        const user = await createUser()
        return { user, session: (await signIn(user.username)).json, adminSession: (await signIn(admin.username)).json }
      },
      async act({ user, adminSession }) {
        return (
          await send(`/v1/admin/users/${user.id}/roles`, {
            method: 'PUT',
            bearer: adminSession.access_token,
            body: { roles: ['user', 'moderator'] },
          })
        ).status
      },
      async check({ user, session }, status, point) {
        assert.ok([200, 503].includes(status), `${point}: answered ${status}`)
        const me = await send('/v1/me', { bearer: session.access_token })
        assert.equal(me.status, 200, `${point}: a role change ends no session`)
        const isGranted = me.json.user.roles.includes('moderator')
        const recorded = (await eventsOf(user.id, 'role_granted')).length
        if (status === 200) assert.ok(isGranted, `${point}: a success means the role is granted`)
        assert.equal(recorded, isGranted ? 1 : 0, `${point}: granted ${isGranted}, ${recorded} role_granted events`)
      },
    })
    t.diagnostic(
      `role change: ${result.commands} Redis commands; answers at the fault points: ${JSON.stringify(result.outcomes)}`,
    )
  })

  it('a key rotation answered 503 either published no key or published it with its event', async (t) => {
    const admin = await createUser(['admin', 'user'])
    const keyCount = async () =>
      runtime!.stores.signingKeys.listUsableSigningKeys(new Date()).then((keys) => keys.length)
    const rotations = async () =>
      (await runtime!.application.auditTrail.queryEvents({ types: ['key_rotated'] }, { after: null, limit: 500 }))
        .events.length
    const result = await runWithFaults({
      async prepare() {
        return {
          adminSession: (await signIn(admin.username)).json,
          keysBefore: await keyCount(),
          rotationsBefore: await rotations(),
        }
      },
      async act({ adminSession }) {
        return (await send('/v1/admin/keys/rotate', { method: 'POST', bearer: adminSession.access_token })).status
      },
      async check({ keysBefore, rotationsBefore }, status, point) {
        assert.ok([201, 503].includes(status), `${point}: answered ${status}`)
        const added = (await keyCount()) - keysBefore
        const recorded = (await rotations()) - rotationsBefore
        if (status === 201) assert.equal(added, 1, `${point}: a success means a key was published`)
        assert.equal(recorded, added, `${point}: ${added} keys added, ${recorded} key_rotated events`)
      },
    })
    t.diagnostic(
      `key rotation: ${result.commands} Redis commands; answers at the fault points: ${JSON.stringify(result.outcomes)}`,
    )
  })
})

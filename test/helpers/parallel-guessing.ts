/**
 * Guesses sent all at once get no more passwords checked than the same guesses sent one after
 * another (regression: #11), and the per-network request limits hold the same way. Each burst
 * goes over real connections, opened first and then written together, from one or from several
 * loopback addresses, against a server whose throttle counters live in SQLite, PostgreSQL or
 * Redis; the server hashes with the production argon2id parameters, so the attempts of a burst
 * are in flight together. What got through is counted where it leaves a trace, in the audit
 * trail: one `login_failed` (or `password_change_failed` with reason `bad_password`) per
 * password verified, one `user_registered` per account, one `token_refresh_failed` per refresh
 * token looked up; none for a throttled answer. The clock stands still, so a wait never ends
 * during a run and the sequential count is exact: 5 for one account from one network, 10 for one
 * account from unknown networks, 20 for one network, 10 registrations, 30 failed refreshes.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import type { AuditEventType } from '../../src/core/audit/events.ts'
import type { Stores } from '../../src/core/stores.ts'
import { loopbackAddresses, sendBurst, sendInSequence, type BurstRequest } from './burst.ts'
import { logInWithToken, registerUser, startTestServer, uniqueUsername, type TestServer } from './test-server.ts'

export interface GuessingBackend {
  name: string
  skip: string | false
  openStores(now: Date): Promise<Stores>
}

type Flow = 'sign-in' | 'password change' | 'registration' | 'refresh'

interface Scenario {
  flow: Flow
  /** The attempts, built against a fresh server. */
  build(server: TestServer): Promise<BurstRequest[]>
}

const newPassword = 'a brand new passphrase 2026'

function guessPasswords(count: number, addresses: readonly string[]): Scenario {
  return {
    flow: 'sign-in',
    async build(server) {
      const { username } = await registerUser(server)
      return Array.from({ length: count }, (_, index) => ({
        from: addresses[index % addresses.length] ?? '127.0.0.2',
        path: '/v1/auth/login',
        body: { username, password: `wrong guess number ${index}` },
      }))
    },
  }
}

function sprayUsernames(count: number, from: string): Scenario {
  return {
    flow: 'sign-in',
    async build() {
      return Array.from({ length: count }, () => ({
        from,
        path: '/v1/auth/login',
        body: { username: uniqueUsername('sprayed'), password: 'Summer2025!Summer2025!' },
      }))
    },
  }
}

function guessCurrentPasswords(count: number, addresses: readonly string[]): Scenario {
  return {
    flow: 'password change',
    async build(server) {
      const { username } = await registerUser(server)
      const { access_token: bearer } = await logInWithToken(server, username)
      return Array.from({ length: count }, (_, index) => ({
        from: addresses[index % addresses.length] ?? '127.0.0.2',
        path: '/v1/me/password',
        bearer,
        body: { current_password: `wrong current password ${index}`, new_password: newPassword },
      }))
    },
  }
}

function registerAccounts(count: number, from: string): Scenario {
  return {
    flow: 'registration',
    async build() {
      return Array.from({ length: count }, () => ({
        from,
        path: '/v1/auth/register',
        body: { username: uniqueUsername('burst'), password: 'correct horse battery staple' },
      }))
    },
  }
}

function redeemUnknownRefreshTokens(count: number, from: string): Scenario {
  return {
    flow: 'refresh',
    async build() {
      return Array.from({ length: count }, () => ({
        from,
        path: '/v1/auth/refresh',
        body: { refresh_token: randomBytes(32).toString('base64url') },
      }))
    },
  }
}

const auditedAs: Record<Flow, { type: AuditEventType; status: number }> = {
  'sign-in': { type: 'login_failed', status: 401 },
  'password change': { type: 'password_change_failed', status: 401 },
  registration: { type: 'user_registered', status: 201 },
  refresh: { type: 'token_refresh_failed', status: 400 },
}

/** Requests let through (for sign-ins, passwords verified), read from the audit trail. */
async function countAudited(server: TestServer, flow: Flow): Promise<number> {
  const events = await server.stores.audit.queryEvents(
    { types: [auditedAs[flow].type] },
    { order: 'oldest_first', after: null, limit: 1000 },
  )
  return events.filter((event) => event.reason !== 'account_throttled').length
}

interface Run {
  /** Requests let through: passwords checked, accounts registered, refresh tokens looked up. */
  admitted: number
  elapsedMs: number
}

async function run(t: TestContext, backend: GuessingBackend, scenario: Scenario, send: typeof sendBurst): Promise<Run> {
  const server = await startTestServer(t, {}, { realArgon2: true, openStores: backend.openStores })
  const requests = await scenario.build(server)
  const started = performance.now()
  const statuses = await send(server.url, requests)
  const elapsedMs = performance.now() - started
  const { status: passed } = auditedAs[scenario.flow]
  const unexpected = statuses.filter((status) => status !== passed && status !== 429)
  assert.deepEqual(unexpected, [], `every request is answered ${passed} when let through, 429 when throttled`)
  const admitted = await countAudited(server, scenario.flow)
  assert.equal(statuses.filter((status) => status === passed).length, admitted, `each ${passed} is one audited event`)
  return { admitted, elapsedMs }
}

async function compare(
  t: TestContext,
  backend: GuessingBackend,
  scenario: Scenario,
  sequentialCount: number,
): Promise<void> {
  const sequential = await run(t, backend, scenario, sendInSequence)
  const parallel = await run(t, backend, scenario, sendBurst)
  t.diagnostic(
    `${backend.name}: ${parallel.admitted} let through in parallel (${parallel.elapsedMs.toFixed(0)} ms), ` +
      `${sequential.admitted} one after another (${sequential.elapsedMs.toFixed(0)} ms)`,
  )
  assert.equal(sequential.admitted, sequentialCount)
  assert.ok(
    parallel.admitted <= sequential.admitted,
    `${parallel.admitted} let through in parallel, ${sequential.admitted} in sequence`,
  )
}

const oneAddress = loopbackAddresses(1)
const tenAddresses = loopbackAddresses(10)

/** The whole suite against one backend; each backend has its own file, so the three run side by side. */
export function describeParallelGuessing(backend: GuessingBackend): void {
  // [the test, its scenario, how many the limits let through when it is sent in sequence]
  const cases: Array<[string, Scenario, number]> = [
    [
      '40 simultaneous wrong passwords for one account from one address get no more checks than 40 in sequence',
      guessPasswords(40, oneAddress),
      5,
    ],
    [
      '100 simultaneous wrong passwords for one account from one address get no more checks than 100 in sequence',
      guessPasswords(100, oneAddress),
      5,
    ],
    [
      '100 simultaneous wrong passwords for one account from ten addresses get no more checks than 100 in sequence',
      guessPasswords(100, tenAddresses),
      10,
    ],
    [
      '60 usernames sprayed at once from one address get no more checks than 60 in sequence',
      sprayUsernames(60, '127.0.0.2'),
      20,
    ],
    [
      '100 simultaneous password changes with a wrong current password from one address get no more checks than 100 in sequence',
      guessCurrentPasswords(100, oneAddress),
      5,
    ],
    [
      '100 simultaneous password changes with a wrong current password from ten addresses get no more checks than 100 in sequence',
      guessCurrentPasswords(100, tenAddresses),
      10,
    ],
    [
      '100 simultaneous registrations from one address create no more accounts than 100 in sequence',
      registerAccounts(100, '127.0.0.2'),
      10,
    ],
    [
      '100 simultaneous unknown refresh tokens from one address get no more looked up than 100 in sequence',
      redeemUnknownRefreshTokens(100, '127.0.0.2'),
      30,
    ],
  ]
  describe(`parallel guessing with counters in ${backend.name}`, { skip: backend.skip }, () => {
    for (const [name, scenario, sequentialCount] of cases) {
      it(name, async (t) => {
        await compare(t, backend, scenario, sequentialCount)
      })
    }
  })
}

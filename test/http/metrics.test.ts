/** /metrics: Prometheus text format, counters that move as the test acts, optional bearer token. */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { hashPassword } from '../../src/core/passwords/argon2id.ts'
import { createAccount, startAuditServer } from '../helpers/audit-server.ts'

const password = 'correct horse battery staple'

/**
 * Parses the text exposition format strictly enough to fail on a malformed line. prom-client
 * writes NaN as `Nan`, which Prometheus reads (its parser takes NaN in any case).
 */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|[Nn]a[Nn]|\+Inf|-Inf)$/.exec(line)
    assert.ok(match, `not a Prometheus sample line: ${line}`)
    samples.set(match[1] ?? '', Number(match[2]))
  }
  return samples
}

describe('metrics', () => {
  it('/metrics parses as Prometheus text and its counters move with logins, refreshes, reuse and alerts', async (t) => {
    const server = await startAuditServer(t)
    await createAccount(server, 'frank', password)
    const read = async () => {
      const response = await server.request('/metrics')
      assert.equal(response.status, 200)
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
      return parseMetrics(response.text)
    }
    const before = await read()
    assert.equal(before.get('tessera_logins_total{outcome="success"}') ?? 0, 0)
    assert.equal(before.get('tessera_active_sessions'), 0)
    const login = (await server.request('/v1/auth/login', { body: { username: 'frank', password } })).json
    for (let index = 0; index < 3; index += 1)
      await server.request('/v1/auth/login', { body: { username: 'frank', password: 'wrong horse battery staple' } })
    await server.request('/v1/auth/register', { body: { username: 'grace', password } })
    await server.request('/v1/auth/refresh', { body: { refresh_token: login.refresh_token } })
    await server.request('/v1/auth/refresh', { body: { refresh_token: login.refresh_token } })
    await server.application.maintenance.runReview(server.clock.now())
    const after = await read()
    assert.equal(after.get('tessera_logins_total{outcome="success"}'), 1)
    assert.equal(after.get('tessera_logins_total{outcome="failure"}'), 3)
    assert.equal(after.get('tessera_registrations_total{outcome="success"}'), 1)
    assert.equal(after.get('tessera_token_refreshes_total{outcome="success"}'), 1)
    assert.equal(after.get('tessera_token_refreshes_total{outcome="reused"}'), 1)
    assert.equal(after.get('tessera_refresh_token_reuse_detections_total'), 1)
    assert.equal(after.get('tessera_alerts_raised_total{rule="refresh_token_reuse",severity="high"}'), 1)
    assert.equal(after.get('tessera_active_sessions'), 0)
    assert.ok((after.get('tessera_password_hash_duration_seconds_count') ?? 0) >= 5)
    assert.ok(
      (after.get(
        'tessera_http_request_duration_seconds_count{method="POST",route="/v1/auth/login",status_code="401"}',
      ) ?? 0) === 3,
    )
    assert.equal(after.get('tessera_throttled_requests_total') ?? 0, 0)
    await server.request('/v1/auth/login', { body: { username: 'frank', password } })
    assert.equal((await read()).get('tessera_active_sessions'), 1)
  })

  // regression: #11 (item 2)
  it('exports no series that tells an unknown user from a wrong password or a disabled account', async (t) => {
    const kinds = ['unknown user', 'wrong password', 'disabled account'] as const
    const scraped = new Map<string, Map<string, number>>()
    for (const kind of kinds) scraped.set(kind, await scrapeAfterFailures(t, kind))
    const [first, ...others] = kinds
    const reference = scraped.get(first) ?? new Map()
    assert.equal(reference.get('tessera_logins_total{outcome="failure"}'), 10)
    assert.equal(reference.get('tessera_alerts_raised_total{rule="brute_force",severity="high"}'), 1)
    for (const kind of others) assert.deepEqual(scraped.get(kind), reference, `${kind} against ${first}`)
  })

  it('asks for the metrics token when one is set, and refuses a wrong one', async (t) => {
    const server = await startAuditServer(t, { TESSERA_METRICS_TOKEN: 'scrape-token-for-tests' })
    const anonymous = await server.request('/metrics')
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.json.code, 'unauthenticated')
    assert.equal((await server.request('/metrics', { bearer: 'scrape-token-for-test' })).status, 401)
    assert.equal((await server.request('/metrics', { bearer: 'scrape-token-for-tests' })).status, 200)
  })

  it('keeps /readyz failing while the store is unreachable and /healthz alive', async (t) => {
    const server = await startAuditServer(t)
    assert.equal((await server.request('/readyz')).status, 200)
    await server.stores.close()
    assert.equal((await server.request('/readyz')).status, 503)
    assert.equal((await server.request('/healthz')).status, 200)
  })
})

/**
 * Ten failed sign-ins of one kind on a fresh server, a review run, then every exported series.
 * Left out: the process metrics, and the buckets and sums of the duration histograms (how long
 * a request took is what the enumeration timing tests judge); their counts stay in.
 */
async function scrapeAfterFailures(t: TestContext, kind: 'unknown user' | 'wrong password' | 'disabled account') {
  const server = await startAuditServer(t)
  await createAccount(server, 'frank', password)
  const now = server.clock.now()
  await server.stores.accounts.insertUser({
    id: randomUUID(),
    username: 'gina',
    usernameKey: 'gina',
    usernameSkeleton: null,
    passwordHash: await hashPassword(password, server.config.passwords.argon2),
    roles: ['user'],
    disabledAt: now,
    sessionEpoch: 0,
    isPasswordChangeRequired: false,
    createdAt: now,
    updatedAt: now,
  })
  const attempt = {
    'unknown user': { username: 'nobody-here', password: 'wrong horse battery staple' },
    'wrong password': { username: 'frank', password: 'wrong horse battery staple' },
    'disabled account': { username: 'gina', password },
  }[kind]
  for (let index = 0; index < 10; index += 1) {
    assert.equal((await server.request('/v1/auth/login', { body: attempt })).status, 401)
  }
  await server.application.maintenance.runReview(server.clock.now())
  const samples = parseMetrics((await server.request('/metrics')).text)
  for (const name of [...samples.keys()]) {
    const isTiming = /^tessera_(http_request|password_hash)_duration_seconds_(bucket|sum)/.test(name)
    if (isTiming || name.startsWith('tessera_process_')) samples.delete(name)
  }
  return samples
}

/**
 * Real attack patterns over HTTP, from real distinct loopback addresses, with the manual clock;
 * then the review runs and the exact alerts are checked with their evidence. Honest traffic of
 * the same volume raises none.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { AlertRecord } from '../../src/core/alerts/store.ts'
import { createAccount, startAuditServer, type AuditTestServer } from '../helpers/audit-server.ts'

const password = 'correct horse battery staple'
const wrongPassword = 'Summer2030-is-not-it'

async function setUp(t: TestContext, accountCount = 0) {
  const server = await startAuditServer(t)
  const adminPassword = 'admin horse battery staple'
  await createAccount(server, 'root', adminPassword, ['admin', 'user'])
  const usernames: string[] = []
  for (let index = 0; index < accountCount; index += 1) {
    usernames.push(`player${index}`)
    await createAccount(server, `player${index}`, password)
  }
  // Start the scenario well after the set-up, outside every review window.
  server.clock.advanceSeconds(7200)
  const admin = await server.request('/v1/auth/login', { body: { username: 'root', password: adminPassword } })
  return { server, usernames, adminToken: admin.json.access_token as string }
}

async function logIn(server: AuditTestServer, ip: string, username: string, secret: string) {
  server.clock.advanceSeconds(1)
  return server.requestFrom(ip, '/v1/auth/login', { body: { username, password: secret } })
}

function summarize(alerts: readonly AlertRecord[]) {
  return alerts.map((alert) => ({ rule: alert.rule, severity: alert.severity, dedupeKey: alert.dedupeKey }))
}

describe('security review over real traffic', () => {
  // regression: #11 (item 8)
  it('keeps what was typed as a username out of the trail, the alerts and their summaries, and still groups it', async (t) => {
    const { server, adminToken } = await setUp(t, 1)
    // Passwords typed into the username field, and text meant to become a link in a chat receiver.
    const typedPassword = 'hunter2-my-bank-password'
    const link = '[click](https://evil.example/phish)'
    for (let attempt = 0; attempt < 12; attempt += 1) {
      assert.equal((await logIn(server, '127.0.0.2', typedPassword, wrongPassword)).status, 401)
    }
    for (let index = 0; index < 12; index += 1) {
      assert.equal((await logIn(server, '127.0.0.3', `${link}-${index}`, wrongPassword)).status, 401)
    }
    for (let attempt = 0; attempt < 12; attempt += 1) await logIn(server, '127.0.0.4', 'PLAYER0', wrongPassword)
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.deepEqual(outcome.alerts.map((alert) => alert.rule).sort(), [
      'brute_force',
      'brute_force',
      'password_spraying',
    ])
    const alerts = await server.request('/v1/admin/alerts', { bearer: adminToken })
    const trail = await server.request('/v1/admin/audit?format=jsonl', { bearer: adminToken })
    for (const text of [alerts.text, trail.text, JSON.stringify(outcome.alerts)]) {
      for (const needle of ['hunter2', 'evil.example', 'click']) assert.ok(!text.includes(needle), needle)
    }
    // The same mistyped name still groups: one brute-force alert, keyed and listed by its digest.
    const typed = outcome.alerts.find(
      (alert) => alert.rule === 'brute_force' && alert.evidence.usernames[0]?.startsWith('~'),
    )
    assert.equal(typed?.evidence.counts.failures, 12)
    assert.deepEqual(typed?.evidence.usernames.length, 1)
    assert.equal(typed?.summary, '12 failed sign-ins on a username that names no account from 1 address within 15 min')
    const sprayed = outcome.alerts.find((alert) => alert.rule === 'password_spraying')
    assert.equal(sprayed?.evidence.counts.accounts, 12)
    assert.ok(sprayed?.evidence.usernames.every((name) => /^~[A-Za-z0-9_-]{16}$/.test(name)))
    // A name that is an account's stays readable for the admins, and out of the summary.
    const account = outcome.alerts.find(
      (alert) => alert.rule === 'brute_force' && alert.evidence.usernames[0] === 'player0',
    )
    assert.ok(account, 'the existing account is named in clear in the evidence')
    assert.match(account?.summary ?? '', /^12 failed sign-ins on user [0-9a-f-]{36} from 1 address/)
  })

  it('a brute-force run on one account from one address raises exactly one brute_force alert', async (t) => {
    const { server } = await setUp(t, 1)
    const startedAt = server.clock.now()
    for (let attempt = 0; attempt < 12; attempt += 1) {
      assert.equal((await logIn(server, '127.0.0.2', 'player0', `${wrongPassword}${attempt}`)).status, 401)
    }
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.deepEqual(summarize(outcome.alerts), [
      { rule: 'brute_force', severity: 'high', dedupeKey: 'brute_force:account:player0' },
    ])
    const [alert] = outcome.alerts
    assert.deepEqual(alert?.evidence.counts, { failures: 12, ips: 1 })
    assert.deepEqual(alert?.evidence.ips, ['127.0.0.2'])
    assert.deepEqual(alert?.evidence.usernames, ['player0'])
    assert.equal(alert?.evidence.firstSeenAt.getTime(), startedAt.getTime() + 1000)
    assert.equal(alert?.evidence.lastSeenAt.getTime(), startedAt.getTime() + 12_000)
    assert.equal(alert?.evidence.eventIds.length, 12)
  })

  it('nine failures on one account stay under the threshold and raise nothing', async (t) => {
    const { server } = await setUp(t, 1)
    for (let attempt = 0; attempt < 9; attempt += 1) await logIn(server, '127.0.0.2', 'player0', wrongPassword)
    assert.deepEqual((await server.application.maintenance.runReview(server.clock.now())).alerts, [])
  })

  it('spraying one password from one address over 30 accounts raises exactly one password_spraying alert', async (t) => {
    const { server, usernames } = await setUp(t, 30)
    for (const username of usernames)
      assert.equal((await logIn(server, '127.0.0.3', username, wrongPassword)).status, 401)
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.deepEqual(summarize(outcome.alerts), [
      { rule: 'password_spraying', severity: 'high', dedupeKey: 'password_spraying:ip:127.0.0.3' },
    ])
    const evidence = outcome.alerts[0]?.evidence
    assert.deepEqual(evidence?.counts, { failures: 30, accounts: 30 })
    assert.deepEqual(evidence?.ips, ['127.0.0.3'])
    assert.deepEqual([...(evidence?.usernames ?? [])].sort(), [...usernames].sort())
  })

  it('stuffing from 40 addresses over 20 accounts raises exactly one spread credential_stuffing alert', async (t) => {
    const { server, usernames } = await setUp(t, 20)
    for (let index = 0; index < 40; index += 1) {
      const response = await logIn(
        server,
        `127.0.1.${index + 1}`,
        usernames[index % 20] ?? '',
        `leaked-password-${index}`,
      )
      assert.equal(response.status, 401)
    }
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.deepEqual(summarize(outcome.alerts), [
      { rule: 'credential_stuffing', severity: 'high', dedupeKey: 'credential_stuffing:spread' },
    ])
    // The admin's own sign-in during set-up is the one success in the window.
    assert.deepEqual(outcome.alerts[0]?.evidence.counts, {
      failures: 40,
      successes: 1,
      accounts: 20,
      ips: 40,
      failure_percent: 98,
    })
    assert.equal(outcome.alerts[0]?.evidence.ips.length, 20)
  })

  it('failures on one account from many addresses are credential stuffing, not brute force', async (t) => {
    const { server } = await setUp(t, 1)
    for (let index = 0; index < 12; index += 1) await logIn(server, `127.0.3.${index + 1}`, 'player0', wrongPassword)
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.deepEqual(summarize(outcome.alerts), [
      { rule: 'credential_stuffing', severity: 'high', dedupeKey: 'credential_stuffing:account:player0' },
    ])
    assert.deepEqual(outcome.alerts[0]?.evidence.counts, { failures: 12, ips: 12 })
  })

  it('a sign-in that succeeds after six failures raises success_after_failures with both addresses', async (t) => {
    const { server } = await setUp(t, 1)
    for (let attempt = 0; attempt < 6; attempt += 1) await logIn(server, '127.0.0.4', 'player0', wrongPassword)
    assert.equal((await logIn(server, '127.0.0.5', 'player0', password)).status, 200)
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.deepEqual(summarize(outcome.alerts), [
      { rule: 'success_after_failures', severity: 'high', dedupeKey: 'success_after_failures:account:player0' },
    ])
    assert.deepEqual(outcome.alerts[0]?.evidence.counts, { failures: 6, ips: 1 })
    assert.deepEqual(outcome.alerts[0]?.evidence.ips, ['127.0.0.4', '127.0.0.5'])
    assert.equal(outcome.alerts[0]?.evidence.sessionIds.length, 1)
  })

  it('a replayed refresh token raises refresh_token_reuse naming the session', async (t) => {
    const { server } = await setUp(t, 1)
    const login = await logIn(server, '127.0.0.6', 'player0', password)
    const first = login.json.refresh_token as string
    server.clock.advanceSeconds(5)
    assert.equal(
      (await server.requestFrom('127.0.0.6', '/v1/auth/refresh', { body: { refresh_token: first } })).status,
      200,
    )
    server.clock.advanceSeconds(5)
    const replay = await server.requestFrom('127.0.0.7', '/v1/auth/refresh', { body: { refresh_token: first } })
    assert.equal(replay.status, 400)
    assert.equal(replay.json.code, 'invalid_grant')
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.deepEqual(summarize(outcome.alerts), [
      {
        rule: 'refresh_token_reuse',
        severity: 'high',
        dedupeKey: `refresh_token_reuse:session:${login.json.session_id}`,
      },
    ])
    assert.deepEqual(outcome.alerts[0]?.evidence.ips, ['127.0.0.7'])
    assert.deepEqual(outcome.alerts[0]?.evidence.sessionIds, [login.json.session_id])
  })

  it('granting the admin role through the API raises admin_role_granted; another role does not', async (t) => {
    const { server, adminToken } = await setUp(t, 2)
    const users = (await server.request('/v1/admin/users?limit=10', { bearer: adminToken })).json.users as Array<{
      id: string
      username: string
    }>
    const target = users.find((user) => user.username === 'player0')
    const other = users.find((user) => user.username === 'player1')
    const grant = (id: string, roles: string[]) =>
      server.request(`/v1/admin/users/${id}/roles`, { method: 'PUT', body: { roles }, bearer: adminToken })
    assert.equal((await grant(other?.id ?? '', ['user', 'moderator'])).status, 200)
    assert.deepEqual((await server.application.maintenance.runReview(server.clock.now())).alerts, [])
    assert.equal((await grant(target?.id ?? '', ['user', 'admin'])).status, 200)
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.deepEqual(summarize(outcome.alerts), [
      { rule: 'admin_role_granted', severity: 'medium', dedupeKey: `admin_role_granted:user:${target?.id}` },
    ])
  })

  it('a sign-in from an address never seen for the user raises new_ip_login; a known address does not', async (t) => {
    const { server } = await setUp(t, 1)
    assert.equal((await logIn(server, '127.0.0.8', 'player0', password)).status, 200)
    assert.deepEqual((await server.application.maintenance.runReview(server.clock.now())).alerts, [])
    server.clock.advanceSeconds(3600)
    assert.equal((await logIn(server, '127.0.0.8', 'player0', password)).status, 200)
    assert.deepEqual((await server.application.maintenance.runReview(server.clock.now())).alerts, [])
    server.clock.advanceSeconds(3600)
    assert.equal((await logIn(server, '127.0.0.9', 'player0', password)).status, 200)
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.deepEqual(summarize(outcome.alerts), [
      {
        rule: 'new_ip_login',
        severity: 'low',
        dedupeKey: `new_ip_login:user:${outcome.alerts[0]?.evidence.userIds[0]}:127.0.0.9`,
      },
    ])
  })

  it('honest traffic of the same volume raises no alert', async (t) => {
    const { server, usernames } = await setUp(t, 30)
    // 30 users on 30 addresses: each signs in, a few after one typo, some twice.
    for (const [index, username] of usernames.entries()) {
      const ip = `127.0.4.${index + 1}`
      if (index % 10 === 0) assert.equal((await logIn(server, ip, username, wrongPassword)).status, 401)
      assert.equal((await logIn(server, ip, username, password)).status, 200)
      if (index % 3 === 0) assert.equal((await logIn(server, ip, username, password)).status, 200)
    }
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.ok(outcome.eventsReviewed >= 40)
    assert.deepEqual(outcome.findings, [])
  })

  it('an attack that goes on raises one alert per dedupe window, and the alert list shows it', async (t) => {
    const { server, adminToken } = await setUp(t, 1)
    for (let attempt = 0; attempt < 10; attempt += 1) await logIn(server, '127.0.0.2', 'player0', wrongPassword)
    assert.equal((await server.application.maintenance.runReview(server.clock.now())).alerts.length, 1)
    server.clock.advanceSeconds(300)
    for (let attempt = 0; attempt < 10; attempt += 1) await logIn(server, '127.0.0.2', 'player0', wrongPassword)
    const again = await server.application.maintenance.runReview(server.clock.now())
    assert.equal(again.findings.length, 1)
    assert.deepEqual(again.alerts, [])
    const listed = await server.request('/v1/admin/alerts', { bearer: adminToken })
    assert.equal(listed.status, 200)
    assert.deepEqual(
      listed.json.alerts.map((alert: { rule: string }) => alert.rule),
      ['brute_force'],
    )
    assert.equal(listed.json.alerts[0].evidence.counts.failures, 10)
    assert.equal(listed.json.alerts[0].delivery.state, 'not_configured')
  })

  it('the scheduler runs the review every five minutes and the daily report at 23:00, once each', async (t) => {
    const { server } = await setUp(t, 1)
    server.clock.set(new Date('2030-01-01T22:58:00.000Z'))
    for (let attempt = 0; attempt < 10; attempt += 1) await logIn(server, '127.0.0.2', 'player0', wrongPassword)
    server.clock.set(new Date('2030-01-01T23:00:00.000Z'))
    const runs = await server.application.maintenance.runDueJobs()
    assert.deepEqual(
      runs.map((run) => [run.job, run.occurrenceAt.toISOString(), run.error]),
      [
        ['security-review', '2030-01-01T23:00:00.000Z', null],
        ['daily-report', '2030-01-01T23:00:00.000Z', null],
        ['retention', '2030-01-01T22:15:00.000Z', null],
      ],
    )
    assert.deepEqual(await server.application.maintenance.runDueJobs(), [])
    const { alerts } = await server.application.auditTrail.listAlerts({
      since: null,
      rule: null,
      after: null,
      limit: 10,
    })
    assert.deepEqual(alerts.map((alert) => alert.rule).sort(), ['brute_force', 'daily_report'])
    const report = alerts.find((alert) => alert.rule === 'daily_report')
    assert.equal(report?.severity, 'info')
    assert.equal(report?.evidence.counts.login_failed, 10)
    assert.equal(report?.evidence.counts.alerts_brute_force, 1)
    assert.deepEqual(report?.evidence.usernames, ['player0'])
    server.clock.set(new Date('2030-01-01T23:05:00.000Z'))
    assert.deepEqual(
      (await server.application.maintenance.runDueJobs()).map((run) => run.job),
      ['security-review'],
    )
  })
})

describe('security review with throttling on', () => {
  it('throttled attempts are audited as login_throttled and still count toward brute force', async (t) => {
    const server = await startAuditServer(t, {
      TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '5',
      TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '10',
      TESSERA_THROTTLE_IP_THRESHOLD: '20',
    })
    await createAccount(server, 'player0', password)
    server.clock.advanceSeconds(7200)
    const statuses: number[] = []
    for (let attempt = 0; attempt < 12; attempt += 1) {
      statuses.push((await logIn(server, '127.0.0.2', 'player0', `${wrongPassword}${attempt}`)).status)
    }
    // The threshold lets five failures through plus the one that crosses it; then the back-off.
    assert.deepEqual(statuses.slice(0, 6), [401, 401, 401, 401, 401, 401])
    assert.ok(
      statuses.slice(6).every((status) => status === 429),
      statuses.join(','),
    )
    // The first refusal is written at once; the rest of its minute as one event with their count,
    // once the minute is over (the minute sweep).
    server.clock.advanceSeconds(60)
    for (const sweep of server.application.maintenance.sweeps) await sweep.run()
    const page = await server.application.auditTrail.queryEvents(
      { types: ['login_throttled'] },
      { order: 'oldest_first', after: null, limit: 100 },
    )
    assert.deepEqual(
      page.events.map((event) => event.details.repeated ?? 1),
      [1, 5],
    )
    assert.ok(page.events.every((event) => event.ip === '127.0.0.2' && event.reason === 'account_throttled'))
    const outcome = await server.application.maintenance.runReview(server.clock.now())
    assert.deepEqual(summarize(outcome.alerts), [
      { rule: 'brute_force', severity: 'high', dedupeKey: 'brute_force:account:player0' },
    ])
    assert.equal(outcome.alerts[0]?.evidence.counts.failures, 12)
  })
})

import assert from 'node:assert/strict'
import { buildTestApplicationSettings } from '../../../test/helpers/core-settings.ts'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { AuditEventRecord } from '../audit/events.ts'
import { detectAdminRoleGrants, detectRefreshTokenReuse } from './event-rules.ts'
import {
  detectAccountAttacks,
  detectPasswordSpraying,
  detectSpreadStuffing,
  detectSuccessAfterFailures,
} from './login-rules.ts'

let second = 0
function event(overrides: Partial<AuditEventRecord>): AuditEventRecord {
  second += 1
  return {
    id: randomUUID(),
    occurredAt: new Date(Date.UTC(2030, 0, 1, 0, 0, second)),
    type: 'login_failed',
    outcome: 'failure',
    reason: 'bad_password',
    actorUserId: null,
    subjectUserId: null,
    username: 'alice',
    ip: '192.0.2.1',
    userAgent: null,
    sessionId: null,
    requestId: null,
    nodeId: 'node',
    details: {},
    ...overrides,
  }
}

const times = (count: number, make: (index: number) => AuditEventRecord) =>
  Array.from({ length: count }, (_, index) => make(index))
/** The documented defaults, from the settings table. */
const rules = buildTestApplicationSettings().audit.review.rules

describe('detection rules', () => {
  it('brute force counts throttled attempts with failed ones, and needs the threshold', () => {
    const attempts = [
      ...times(5, () => event({})),
      ...times(5, () => event({ type: 'login_throttled', reason: 'account_throttled' })),
    ]
    assert.deepEqual(
      detectAccountAttacks(attempts, rules, 900).map((finding) => finding.rule),
      ['brute_force'],
    )
    assert.deepEqual(detectAccountAttacks(attempts.slice(1), rules, 900), [])
    assert.deepEqual(
      detectAccountAttacks(
        times(10, () => event({ type: 'login_succeeded', outcome: 'success' })),
        rules,
        900,
      ),
      [],
    )
  })

  it('failures on one account from five addresses or more are stuffing; from four, brute force', () => {
    const spread = (ipCount: number) => times(10, (index) => event({ ip: `192.0.2.${index % ipCount}` }))
    assert.deepEqual(
      detectAccountAttacks(spread(5), rules, 900).map((finding) => finding.rule),
      ['credential_stuffing'],
    )
    assert.deepEqual(
      detectAccountAttacks(spread(4), rules, 900).map((finding) => finding.rule),
      ['brute_force'],
    )
  })

  it('spraying needs ten distinct accounts from one address', () => {
    const sprayed = (accounts: number) => times(accounts, (index) => event({ username: `user${index}` }))
    assert.equal(detectPasswordSpraying(sprayed(10), rules, 900).length, 1)
    assert.deepEqual(detectPasswordSpraying(sprayed(9), rules, 900), [])
    assert.deepEqual(detectPasswordSpraying([...sprayed(9), ...sprayed(9)], rules, 900), [])
  })

  it('spread stuffing needs many addresses, many accounts and a high failure ratio', () => {
    const failures = times(20, (index) => event({ username: `user${index % 10}`, ip: `198.51.100.${index}` }))
    assert.equal(detectSpreadStuffing(failures, rules, 900).length, 1)
    const honest = times(10, (index) =>
      event({ type: 'login_succeeded', outcome: 'success', username: `user${index}` }),
    )
    assert.deepEqual(detectSpreadStuffing([...failures, ...honest], rules, 900), [])
    assert.deepEqual(detectSpreadStuffing(failures.slice(0, 9), rules, 900), [])
    assert.deepEqual(detectSpreadStuffing([], rules, 900), [])
  })

  it('success after failures needs five failures right before the success; a success in between resets the run', () => {
    const success = () => event({ type: 'login_succeeded', outcome: 'success' })
    assert.equal(detectSuccessAfterFailures([...times(5, () => event({})), success()], rules).length, 1)
    assert.deepEqual(detectSuccessAfterFailures([...times(4, () => event({})), success()], rules), [])
    assert.deepEqual(
      detectSuccessAfterFailures(
        [...times(3, () => event({})), success(), ...times(3, () => event({})), success()],
        rules,
      ),
      [],
    )
    assert.deepEqual(
      detectSuccessAfterFailures(
        times(8, () => event({})),
        rules,
      ),
      [],
    )
  })

  it('refresh reuse and admin grants are findings on their own; other roles and events are not', () => {
    assert.equal(detectRefreshTokenReuse([event({ type: 'refresh_token_reused', sessionId: 's1' })]).length, 1)
    assert.deepEqual(detectRefreshTokenReuse([event({ type: 'token_refreshed', outcome: 'success' })]), [])
    const grant = (role: string) =>
      event({ type: 'role_granted', outcome: 'success', details: { role }, subjectUserId: 'u1' })
    assert.equal(detectAdminRoleGrants([grant('admin')]).length, 1)
    assert.deepEqual(
      detectAdminRoleGrants([grant('moderator'), event({ type: 'role_revoked', details: { role: 'admin' } })]),
      [],
    )
    const created = (roles: string) => event({ type: 'user_created', outcome: 'success', details: { roles } })
    assert.equal(detectAdminRoleGrants([created('admin,user')]).length, 1)
    assert.deepEqual(detectAdminRoleGrants([created('administrator,user')]), [])
  })
})

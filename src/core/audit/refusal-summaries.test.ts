import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { silentObserver } from '../observer.ts'
import { createAttemptedUsernames } from './attempted-username.ts'
import { createAudit, type AuditEventInput } from './audit.ts'
import { countAttempts, createRefusalSummaries } from './refusal-summaries.ts'

const settings = { windowSeconds: 60, maxKindsPerNetwork: 3, maxKinds: 100 }

function setUp(t: TestContext) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const usernames = createAttemptedUsernames({ secret: new Uint8Array(32).fill(1), accounts: stores.accounts })
  const audit = createAudit({ store: stores.audit, clock, nodeId: 'node-1', observer: silentObserver, usernames })
  const refusals = createRefusalSummaries({ audit, clock, settings })
  const stored = async () => (await audit.queryEvents({}, { order: 'oldest_first', after: null, limit: 10_000 })).events
  return { clock, refusals, stored, stores }
}

function throttled(username: string, ip = '198.51.100.7'): AuditEventInput {
  return {
    type: 'login_throttled',
    outcome: 'failure',
    reason: 'account_throttled',
    username,
    context: { ip, userAgent: 'hostile/1.0', requestId: 'request' },
  }
}

describe('refusal summaries', () => {
  it('writes the first refusal of a kind at once and the rest of its window as one event with their count', async (t) => {
    const { clock, refusals, stored } = setUp(t)
    for (let index = 0; index < 50; index += 1) await refusals.recordRefusal(throttled('alice'))
    assert.deepEqual(
      (await stored()).map((event) => [event.type, event.details.repeated ?? null]),
      [['login_throttled', null]],
    )
    clock.advanceSeconds(60)
    assert.equal(await refusals.flushRefusals(), 1)
    const events = await stored()
    assert.deepEqual(
      events.map((event) => [event.details.repeated ?? null, event.details.window_seconds ?? null]),
      [
        [null, null],
        [49, 60],
      ],
    )
    assert.equal(
      events.reduce((total, event) => total + countAttempts(event), 0),
      50,
      'every refusal is counted once',
    )
    assert.equal(events[1]?.requestId, null)
    assert.equal(events[1]?.ip, '198.51.100.7')
  })

  it('closes a window when the next refusal of its kind comes after it, and starts a new one', async (t) => {
    const { clock, refusals, stored } = setUp(t)
    await refusals.recordRefusal(throttled('alice'))
    await refusals.recordRefusal(throttled('alice'))
    clock.advanceSeconds(61)
    await refusals.recordRefusal(throttled('alice'))
    assert.deepEqual(
      (await stored()).map((event) => event.details.repeated ?? 0),
      [0, 1, 0],
    )
    assert.equal(await refusals.flushRefusals(), 0, 'nothing repeated yet in the new window')
  })

  it('keeps kinds apart by type, reason, network and name, but groups the addresses of one network', async (t) => {
    const { refusals, stored } = setUp(t)
    await refusals.recordRefusal(throttled('alice', '198.51.100.7'))
    await refusals.recordRefusal(throttled('bob', '198.51.100.7'))
    await refusals.recordRefusal(throttled('alice', '203.0.113.9'))
    await refusals.recordRefusal(throttled('alice', '2001:db8::1'))
    await refusals.recordRefusal(throttled('alice', '2001:db8::2'))
    await refusals.recordRefusal({ ...throttled('alice'), type: 'password_change_failed' })
    assert.equal((await stored()).length, 5)
  })

  it('bounds what one client adds however many names it sends: at most 2 × (kinds per network + 1) rows a window', async (t) => {
    const { clock, refusals, stored } = setUp(t)
    for (let window = 0; window < 10; window += 1) {
      for (let index = 0; index < 500; index += 1) await refusals.recordRefusal(throttled(`victim${window}-${index}`))
      clock.advanceSeconds(60)
    }
    await refusals.flushRefusals()
    const events = await stored()
    assert.ok(events.length <= 10 * 2 * (settings.maxKindsPerNetwork + 1), `${events.length} rows for 5,000 refusals`)
    assert.equal(
      events.reduce((total, event) => total + countAttempts(event), 0),
      5000,
    )
    const anonymous = events.filter((event) => event.details.names_left_out === true)
    assert.ok(anonymous.length > 0 && anonymous.every((event) => event.username === null))
  })

  it('forgets a kind whose first event could not be written, so the next refusal is written in full', async (t) => {
    const { refusals, stored, stores } = setUp(t)
    const appendEvents = stores.audit.appendEvents
    stores.audit.appendEvents = async () => {
      throw new Error('disk full')
    }
    await assert.rejects(refusals.recordRefusal(throttled('alice')), { code: 'service_unavailable' })
    stores.audit.appendEvents = appendEvents
    await refusals.recordRefusal(throttled('alice'))
    assert.equal((await stored()).length, 1, 'written, not counted into a window whose first event is missing')
  })
})

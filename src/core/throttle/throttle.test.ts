import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { TesseraError } from '../errors.ts'
import type { Wait } from './admission.ts'
import { computeBlockSeconds, type BackoffRule } from './backoff.ts'
import { describeClientNetwork } from './client-network.ts'
import { buildTestApplicationSettings } from '../../../test/helpers/core-settings.ts'
import { createThrottle, type ThrottleSettings } from './throttle.ts'

/** The documented defaults, from the settings table. */
const defaultThrottleSettings = buildTestApplicationSettings().throttle

function setUp(t: TestContext, settings: ThrottleSettings = defaultThrottleSettings, wait?: Wait) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const throttle = createThrottle({ store: stores.throttles, clock, settings, ...(wait ? { wait } : {}) })
  return { clock, store: stores.throttles, throttle }
}

/** The Retry-After of a refusal, or null when the attempt was admitted (and left in flight). */
async function tryAdmission(admit: () => Promise<unknown>): Promise<number | null> {
  try {
    await admit()
    return null
  } catch (error) {
    if (error instanceof TesseraError && error.code === 'rate_limited') return Number(error.details?.retry_after)
    throw error
  }
}

/** The Retry-After of a refusal, or null when the attempt was admitted. */
async function tryFailure(
  throttle: ReturnType<typeof setUp>['throttle'],
  username: string,
  ip: string,
): Promise<number | null> {
  try {
    const attempt = await throttle.admitSignIn({ username, ip })
    await attempt.recordFailure()
    return null
  } catch (error) {
    if (error instanceof TesseraError && error.code === 'rate_limited') return Number(error.details?.retry_after)
    throw error
  }
}

async function succeed(throttle: ReturnType<typeof setUp>['throttle'], username: string, ip: string): Promise<void> {
  const attempt = await throttle.admitSignIn({ username, ip })
  await attempt.recordSuccess()
}

const rule: BackoffRule = { threshold: 3, baseDelaySeconds: 2, maxDelaySeconds: 60, forgetAfterSeconds: 600 }

describe('back-off', () => {
  it('computeBlockSeconds() is zero below the threshold, then doubles up to the maximum', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 50].map((count) => computeBlockSeconds(count, rule)),
      [0, 0, 2, 4, 8, 16, 32, 60, 60],
    )
  })
})

describe('client network', () => {
  it('describeClientNetwork() keeps IPv4, unmaps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    assert.equal(describeClientNetwork('203.0.113.9'), '203.0.113.9')
    assert.equal(describeClientNetwork('::ffff:203.0.113.9'), '203.0.113.9')
    assert.equal(describeClientNetwork('2001:db8:1:2::1'), '2001:db8:1:2::/64')
    assert.equal(describeClientNetwork('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64')
    assert.notEqual(describeClientNetwork('2001:db8:1:3::1'), describeClientNetwork('2001:db8:1:2::1'))
  })

  it('describeClientNetwork() keeps unreadable input apart and bounded', () => {
    assert.equal(describeClientNetwork('1.2.3.256'), 'raw:1.2.3.256')
    assert.equal(describeClientNetwork('x'.repeat(500)).length, 4 + 64)
  })
})

describe('sign-in throttle', () => {
  it('blocks a username from one address after the strict threshold, with a growing Retry-After', async (t) => {
    const { throttle, clock } = setUp(t)
    for (let index = 0; index < 5; index += 1) assert.equal(await tryFailure(throttle, 'alice', '198.51.100.1'), null)
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.1'), 1)
    clock.advanceSeconds(1)
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.1'), null)
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.1'), 2)
    clock.advanceSeconds(2)
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.1'), null)
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.1'), 4)
  })

  it('keys on the normalised username, so case and width variants share one counter', async (t) => {
    const { throttle } = setUp(t)
    for (const variant of ['Alice', 'alice', 'ALICE', 'ＡＬＩＣＥ', 'aLiCe'])
      await tryFailure(throttle, variant, '198.51.100.1')
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.1'), 1)
  })

  it('does not block other usernames from the same address below the network threshold', async (t) => {
    const { throttle } = setUp(t)
    for (let index = 0; index < 6; index += 1) await tryFailure(throttle, 'alice', '198.51.100.1')
    assert.equal(await tryFailure(throttle, 'bob', '198.51.100.1'), null)
  })

  it('blocks the username everywhere after the loose threshold, except from a known network', async (t) => {
    const { throttle } = setUp(t)
    await succeed(throttle, 'alice', '192.0.2.50')
    for (let index = 0; index < 10; index += 1)
      assert.equal(await tryFailure(throttle, 'alice', `198.51.100.${index}`), null)
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.200'), 1)
    assert.equal(await tryFailure(throttle, 'alice', '192.0.2.50'), null)
  })

  it('a success resets the username counters and later failures start from zero', async (t) => {
    const { throttle, clock } = setUp(t)
    for (let index = 0; index < 5; index += 1) await tryFailure(throttle, 'alice', '198.51.100.1')
    clock.advanceSeconds(1)
    await succeed(throttle, 'alice', '198.51.100.1')
    for (let index = 0; index < 5; index += 1) assert.equal(await tryFailure(throttle, 'alice', '198.51.100.1'), null)
  })

  it('refuses even the attempt that would succeed while the username is blocked', async (t) => {
    const { throttle } = setUp(t)
    for (let index = 0; index < 5; index += 1) await tryFailure(throttle, 'alice', '198.51.100.1')
    await assert.rejects(throttle.admitSignIn({ username: 'alice', ip: '198.51.100.1' }), { code: 'rate_limited' })
  })

  it('slows down an address that fails for many usernames, but not their known networks', async (t) => {
    const { throttle } = setUp(t)
    await succeed(throttle, 'regular', '198.51.100.7')
    for (let index = 0; index < 20; index += 1)
      assert.equal(await tryFailure(throttle, `victim${index}`, '198.51.100.7'), null)
    assert.equal(await tryFailure(throttle, 'victim-next', '198.51.100.7'), 1)
    assert.equal(await tryFailure(throttle, 'regular', '198.51.100.7'), null)
    assert.equal(await tryFailure(throttle, 'victim-next', '198.51.100.8'), null)
  })

  it('counts every address of one IPv6 /64 as one network', async (t) => {
    const { throttle } = setUp(t)
    for (let index = 0; index < 5; index += 1) await tryFailure(throttle, 'alice', `2001:db8:7:7::${index + 1}`)
    assert.equal(await tryFailure(throttle, 'alice', '2001:db8:7:7:abcd::9'), 1)
  })

  it('never admits more than the maximum of consecutive failures for one username', async (t) => {
    const { throttle, clock } = setUp(t)
    await succeed(throttle, 'alice', '192.0.2.50')
    let admitted = 0
    // Rotating addresses, then the known one: waiting out every back-off, as a patient attacker would.
    for (let round = 0; round < 300; round += 1) {
      const ip = round % 3 === 0 ? '192.0.2.50' : `198.51.${round % 250}.${round % 7}`
      const retryAfter = await tryFailure(throttle, 'alice', ip)
      if (retryAfter === null) admitted += 1
      else clock.advanceSeconds(retryAfter)
    }
    assert.equal(admitted, 100)
    assert.equal(await tryFailure(throttle, 'alice', '192.0.2.50'), 3600)
    clock.advanceSeconds(30 * 86_400)
    assert.equal(await tryFailure(throttle, 'alice', '192.0.2.50'), 3600, 'the cap outlives the forget period')
  })

  it('keeps attempts for known networks once unknown ones reach their cap', async (t) => {
    const settings: ThrottleSettings = {
      ...defaultThrottleSettings,
      signIn: {
        ...defaultThrottleSettings.signIn,
        account: { ...defaultThrottleSettings.signIn.account, threshold: 90 },
      },
    }
    const { throttle } = setUp(t, settings)
    await succeed(throttle, 'alice', '192.0.2.50')
    for (let index = 0; index < 90; index += 1)
      assert.equal(await tryFailure(throttle, 'alice', `198.51.100.${index}`), null)
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.250'), 3600)
    await succeed(throttle, 'alice', '192.0.2.50')
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.250'), null)
  })

  it('holds the cap under concurrent attempts', async (t) => {
    const settings: ThrottleSettings = {
      ...defaultThrottleSettings,
      signIn: {
        ...defaultThrottleSettings.signIn,
        account: { ...defaultThrottleSettings.signIn.account, threshold: 90 },
        accountNetwork: { ...defaultThrottleSettings.signIn.accountNetwork, threshold: 90 },
      },
    }
    const { throttle } = setUp(t, settings)
    const outcomes = await Promise.all(
      Array.from({ length: 150 }, (_, index) => tryFailure(throttle, 'alice', `198.51.100.${index}`)),
    )
    assert.equal(outcomes.filter((outcome) => outcome === null).length, 90)
  })

  it('cancel() uncounts an attempt whose password was never verified', async (t) => {
    const { throttle } = setUp(t)
    for (let index = 0; index < 20; index += 1) {
      const attempt = await throttle.admitSignIn({ username: 'alice', ip: '198.51.100.1' })
      await attempt.cancel()
    }
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.1'), null)
  })

  it('holds back an attempt that attempts in flight could block, and refuses it once they failed', async (t) => {
    // regression: #11
    const inFlight: Array<{ recordFailure(): Promise<void> }> = []
    const { throttle } = setUp(t, defaultThrottleSettings, async () => {
      for (const attempt of inFlight.splice(0)) await attempt.recordFailure()
    })
    for (let index = 0; index < 5; index += 1)
      inFlight.push(await throttle.admitSignIn({ username: 'alice', ip: '198.51.100.1' }))
    assert.equal(await tryAdmission(() => throttle.admitSignIn({ username: 'alice', ip: '198.51.100.1' })), 1)
  })

  it('holds back an attempt that attempts in flight could block, and admits it once they succeeded', async (t) => {
    const inFlight: Array<{ recordSuccess(): Promise<void> }> = []
    const { throttle } = setUp(t, defaultThrottleSettings, async () => {
      for (const attempt of inFlight.splice(0)) await attempt.recordSuccess()
    })
    for (let index = 0; index < 5; index += 1)
      inFlight.push(await throttle.admitSignIn({ username: 'alice', ip: '198.51.100.1' }))
    assert.equal(await tryAdmission(() => throttle.admitSignIn({ username: 'alice', ip: '198.51.100.1' })), null)
  })

  it('waits a bounded while for attempts in flight, then refuses for a second rather than admit', async (t) => {
    let waits = 0
    const { throttle } = setUp(t, defaultThrottleSettings, async () => {
      waits += 1
    })
    for (let index = 0; index < 5; index += 1) await throttle.admitSignIn({ username: 'alice', ip: '198.51.100.1' })
    assert.equal(await tryAdmission(() => throttle.admitSignIn({ username: 'alice', ip: '198.51.100.1' })), 1)
    assert.equal(waits, 10)
    assert.equal(
      await tryAdmission(() => throttle.admitSignIn({ username: 'alice', ip: '198.51.100.2' })),
      null,
      'other networks below the thresholds go ahead',
    )
  })

  it('admits as many of 100 simultaneous wrong passwords as of 100 in sequence', async (t) => {
    const { throttle } = setUp(t)
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => tryFailure(throttle, 'alice', '198.51.100.1')))
    assert.equal(outcomes.filter((outcome) => outcome === null).length, 5)
    assert.ok(outcomes.every((outcome) => outcome === null || outcome === 1))
  })

  it('admits as many of 60 usernames sprayed at once from one address as of 60 in sequence', async (t) => {
    const { throttle } = setUp(t)
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, index) => tryFailure(throttle, `victim${index}`, '198.51.100.7')),
    )
    assert.equal(outcomes.filter((outcome) => outcome === null).length, 20)
  })

  it('unlockAccount() clears the counters of every address and leaves other users alone', async (t) => {
    const { throttle } = setUp(t)
    for (let index = 0; index < 12; index += 1) await tryFailure(throttle, 'alice', `198.51.100.${index % 2}`)
    for (let index = 0; index < 6; index += 1) await tryFailure(throttle, 'alicex', '198.51.100.0')
    assert.ok((await tryFailure(throttle, 'alice', '198.51.100.0')) !== null)
    assert.equal(await throttle.unlockAccount('ALICE'), 3)
    assert.equal(await tryFailure(throttle, 'alice', '198.51.100.0'), null)
    assert.ok((await tryFailure(throttle, 'alicex', '198.51.100.0')) !== null)
  })

  it('throttles input that is no valid username like any other name', async (t) => {
    const { throttle } = setUp(t)
    for (let index = 0; index < 5; index += 1) await tryFailure(throttle, 'a b', '198.51.100.1')
    assert.equal(await tryFailure(throttle, 'a b', '198.51.100.1'), 1)
    assert.equal(await tryFailure(throttle, 'a  b', '198.51.100.1'), null)
  })

  it('forgets failures below the cap after the forget period', async (t) => {
    const { throttle, clock } = setUp(t)
    for (let index = 0; index < 5; index += 1) await tryFailure(throttle, 'alice', '198.51.100.1')
    clock.advanceSeconds(86_400)
    for (let index = 0; index < 5; index += 1) assert.equal(await tryFailure(throttle, 'alice', '198.51.100.1'), null)
    assert.equal(await throttle.deleteExpiredThrottles(), 0)
    clock.advanceSeconds(86_400)
    assert.ok((await throttle.deleteExpiredThrottles()) > 0)
  })
})

describe('request throttle', () => {
  it('counts every registration and blocks the address past its threshold', async (t) => {
    const { throttle, clock } = setUp(t)
    for (let index = 0; index < 10; index += 1) await throttle.admitRequest('registration', '198.51.100.1')
    await assert.rejects(throttle.admitRequest('registration', '198.51.100.1'), { code: 'rate_limited' })
    await throttle.admitRequest('registration', '198.51.100.2')
    clock.advanceSeconds(1)
    await throttle.admitRequest('registration', '198.51.100.1')
  })

  it('counts only failed refreshes', async (t) => {
    const { throttle } = setUp(t)
    for (let index = 0; index < 100; index += 1)
      await (await throttle.admitRequest('refresh', '198.51.100.1')).recordSuccess()
    for (let index = 0; index < 30; index += 1)
      await (await throttle.admitRequest('refresh', '198.51.100.1')).recordFailure()
    await assert.rejects(throttle.admitRequest('refresh', '198.51.100.1'), { code: 'rate_limited' })
  })

  it('counts a refresh in flight as failed until it ends, so a burst of failures stops at the threshold', async (t) => {
    // regression: #11
    const { throttle } = setUp(t)
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, () =>
        tryAdmission(async () => (await throttle.admitRequest('refresh', '198.51.100.1')).recordFailure()),
      ),
    )
    assert.equal(outcomes.filter((outcome) => outcome === null).length, 30)
  })

  it('lets a burst of refreshes that succeed through, past the threshold', async (t) => {
    const { throttle } = setUp(t)
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, () =>
        tryAdmission(async () => (await throttle.admitRequest('refresh', '198.51.100.1')).recordSuccess()),
      ),
    )
    assert.deepEqual([...new Set(outcomes)], [null])
  })

  it('admits as many of 100 simultaneous registrations as of 100 in sequence', async (t) => {
    const { throttle } = setUp(t)
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, () => tryAdmission(() => throttle.admitRequest('registration', '198.51.100.1'))),
    )
    assert.equal(outcomes.filter((outcome) => outcome === null).length, 10)
  })
})

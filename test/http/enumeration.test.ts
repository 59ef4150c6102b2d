import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { hashPassword } from '../../src/core/passwords/argon2id.ts'
import {
  registerUser,
  startTestServer,
  strongPassword,
  uniqueUsername,
  type TestResponse,
} from '../helpers/test-server.ts'

// Thresholds out of the way: this test is about what an unthrottled answer reveals.
const roomyThrottle = {
  TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '90',
  TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '90',
  TESSERA_THROTTLE_IP_THRESHOLD: '100000',
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

/** What a client can see of an answer, less the per-request id. */
function describeAnswer(response: TestResponse) {
  const { instance: _instance, ...body } = response.json as Record<string, unknown>
  const headerNames = [...response.headers.keys()].filter((name) => name !== 'date' && name !== 'content-length').sort()
  return { status: response.status, body, headerNames, setCookie: response.headers.get('set-cookie') }
}

describe('username enumeration', () => {
  it('answers an unknown user, a wrong password and a disabled account identically', async (t) => {
    const server = await startTestServer(t, roomyThrottle)
    const { username } = await registerUser(server)
    const disabled = uniqueUsername('disabled')
    const now = server.clock.now()
    await server.stores.accounts.insertUser({
      id: randomUUID(),
      username: disabled,
      usernameKey: disabled.toLowerCase(),
      usernameSkeleton: null,
      passwordHash: await hashPassword(strongPassword, server.config.passwords.argon2),
      roles: ['user'],
      disabledAt: now,
      sessionEpoch: 0,
      isPasswordChangeRequired: false,
      createdAt: now,
      updatedAt: now,
    })
    const login = (name: string, password: string) =>
      server.request('/v1/auth/login', { body: { username: name, password } })
    const wrong = describeAnswer(await login(username, 'not the password at all'))
    const unknown = describeAnswer(await login(uniqueUsername('nobody'), 'not the password at all'))
    const disabledRight = describeAnswer(await login(disabled, strongPassword))
    assert.equal(wrong.status, 401)
    assert.deepEqual(unknown, wrong)
    assert.deepEqual(disabledRight, wrong)
  })

  it('takes the same time for an unknown user as for a wrong password (median difference under 10 %)', async (t) => {
    const server = await startTestServer(t, roomyThrottle, { realArgon2: true })
    const { username } = await registerUser(server)
    let ghost = uniqueUsername('ghost')
    const timeLogin = async (name: string) => {
      const started = performance.now()
      const response = await server.request('/v1/auth/login', {
        body: { username: name, password: 'not the password at all' },
      })
      const elapsed = performance.now() - started
      assert.equal(response.status, 401)
      return elapsed
    }
    for (let index = 0; index < 3; index += 1) {
      await timeLogin(username)
      await timeLogin(ghost)
    }
    // Up to three rounds of 40 interleaved pairs: this machine's load is not ours to control, so a
    // round spoiled by noise is measured again; a real difference fails every round. The two logins
    // of a pair run back to back and meet the same load, so each pair gives one ratio, and the
    // round's difference is the median of those ratios: a burst of load from the test files beside
    // this one spoils a pair or two, not the median, where medians of each side taken apart moved
    // by up to 22 % on a busy machine.
    const differences: number[] = []
    for (let round = 0; round < 3; round += 1) {
      const known: number[] = []
      const unknown: number[] = []
      for (let pair = 0; pair < 40; pair += 1) {
        // Alternate which goes first, so a drift in machine load falls on both sides alike.
        if (pair % 2 === 0) {
          known.push(await timeLogin(username))
          unknown.push(await timeLogin(ghost))
        } else {
          unknown.push(await timeLogin(ghost))
          known.push(await timeLogin(username))
        }
      }
      const ratio = Math.exp(median(known.map((knownMs, pair) => Math.log(knownMs / (unknown[pair] ?? knownMs)))))
      const difference = Math.abs(1 - Math.min(ratio, 1 / ratio))
      differences.push(difference)
      t.diagnostic(
        `round ${round + 1}: median wrong password ${median(known).toFixed(2)} ms, unknown user ${median(unknown).toFixed(2)} ms, median ratio of a pair ${ratio.toFixed(3)}, difference ${(difference * 100).toFixed(1)} %`,
      )
      if (difference < 0.1) break
      await server.application.accountAdmin.unlockUsername(username, {
        actorUserId: null,
        context: { ip: null, userAgent: 'test', requestId: null },
      })
      // Nothing unlocks a name no account holds: the next round asks with a fresh unknown name.
      ghost = uniqueUsername('ghost')
    }
    assert.ok(
      differences.some((difference) => difference < 0.1),
      `differences ${differences.map((d) => (d * 100).toFixed(1)).join(', ')} %`,
    )
  })
})

/**
 * Second-step guesses sent all at once get no more codes checked than the same guesses sent one
 * after another. Each burst is 100 real connections, opened first and written together, each
 * from its own loopback address (so only the per-account counters and the challenge's own
 * attempts can stop them). A checked code leaves one `mfa_failed` event with reason `bad_code`;
 * a refused one leaves none. The clock stands still, so no wait ends during a run.
 *
 * - One challenge: it allows 5 checks, in one atomic store step per check.
 * - Twenty challenges, five guesses each: the account's back-off (10 failures from networks it
 *   never signed in from) is charged atomically at admission, across challenges.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { loopbackAddresses, sendBurst, sendInSequence, type BurstRequest } from '../helpers/burst.ts'
import { enrolTotp } from '../helpers/second-factor.ts'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  type TestServer,
} from '../helpers/test-server.ts'

async function serverWithEnrolledUser(t: TestContext) {
  const server = await startTestServer(t)
  const user = await registerUser(server)
  const { access_token: bearer } = await logInWithToken(server, user.username)
  await enrolTotp(server, { bearer })
  return { server, username: user.username }
}

async function openChallenges(server: TestServer, username: string, count: number): Promise<string[]> {
  const challenges: string[] = []
  for (let index = 0; index < count; index += 1) {
    const login = await server.request('/v1/auth/login', { body: { username, password: strongPassword } })
    assert.equal(login.json.code, 'mfa_required', login.text)
    challenges.push(login.json.mfa_challenge)
  }
  return challenges
}

function countCheckedCodes(server: TestServer): number {
  return server.auditEvents.filter((event) => event.type === 'mfa_failed' && event.reason === 'bad_code').length
}

/** 100 wrong codes spread over the challenges, each from its own address. */
function buildGuesses(challenges: readonly string[]): BurstRequest[] {
  return loopbackAddresses(100).map((from, index) => ({
    from,
    path: '/v1/auth/mfa',
    body: { challenge: challenges[index % challenges.length], code: String(100000 + index) },
  }))
}

describe('parallel guessing of the second step', { timeout: 120_000 }, () => {
  for (const challengeCount of [1, 20]) {
    it(`100 simultaneous wrong codes over ${challengeCount} challenge(s) get no more checks than 100 sent one by one`, async (t) => {
      const sequential = await serverWithEnrolledUser(t)
      const sequentialStatuses = await sendInSequence(
        sequential.server.url,
        buildGuesses(await openChallenges(sequential.server, sequential.username, challengeCount)),
      )
      const sequentialChecks = countCheckedCodes(sequential.server)

      const parallel = await serverWithEnrolledUser(t)
      const parallelStatuses = await sendBurst(
        parallel.server.url,
        buildGuesses(await openChallenges(parallel.server, parallel.username, challengeCount)),
      )
      const parallelChecks = countCheckedCodes(parallel.server)

      t.diagnostic(`codes checked: ${parallelChecks} in the burst, ${sequentialChecks} one by one`)
      assert.equal(sequentialChecks, challengeCount === 1 ? 5 : 10, sequentialStatuses.join(','))
      assert.ok(
        parallelChecks <= sequentialChecks,
        `${parallelChecks} codes checked in the burst, ${sequentialChecks} one by one`,
      )
      assert.ok(parallelChecks >= 1)
      // Every answer is a refusal: a wrong code, a spent challenge or a throttle; never a 5xx.
      assert.deepEqual(
        [...new Set(parallelStatuses)].filter((status) => ![401, 429].includes(status)),
        [],
      )
      assert.equal(parallelStatuses.filter((status) => status === 401).length >= parallelChecks, true)
    })
  }
})

/**
 * Puts the sign-in throttle around every flow that verifies a password: login and password
 * change. The throttle decides before any argon2 work, so a throttled answer is cheap and reads
 * the same for every username; only a wrong password (`invalid_credentials`) counts as a failure.
 */
import type { Audit } from '../audit/audit.ts'
import { TesseraError } from '../errors.ts'
import type { SignInAttempt, SignInThrottle } from '../throttle/sign-in-throttle.ts'
import type { Authentication, ClientContext, Principal } from './authentication.ts'

async function settleAttempt<T>(attempt: SignInAttempt, work: () => Promise<T>): Promise<T> {
  let result: T
  try {
    result = await work()
  } catch (error) {
    if (error instanceof TesseraError && error.code === 'invalid_credentials') await attempt.recordFailure()
    else await attempt.cancel()
    throw error
  }
  await attempt.recordSuccess()
  return result
}

function isRateLimited(error: unknown): boolean {
  return error instanceof TesseraError && error.code === 'rate_limited'
}

export function createThrottledAuthentication(
  inner: Authentication,
  throttle: SignInThrottle,
  audit: Audit,
): Authentication {
  // A refused attempt is recorded too: the review counts it as a failure (brute force, spraying).
  async function admitLogIn(input: { username: string } & ClientContext): Promise<SignInAttempt> {
    try {
      return await throttle.admitSignIn({ username: input.username, ip: input.ip })
    } catch (error) {
      if (isRateLimited(error)) {
        await audit.record({
          type: 'login_throttled',
          outcome: 'failure',
          reason: 'account_throttled',
          username: input.username,
          context: input,
        })
      }
      throw error
    }
  }

  async function admitPasswordChange(principal: Principal, context: ClientContext): Promise<SignInAttempt> {
    try {
      return await throttle.admitSignIn({ username: principal.user.username, ip: context.ip })
    } catch (error) {
      if (isRateLimited(error)) {
        await audit.record({
          type: 'password_change_failed',
          outcome: 'failure',
          reason: 'account_throttled',
          actorUserId: principal.user.id,
          subjectUserId: principal.user.id,
          sessionId: principal.session.id,
          context,
        })
      }
      throw error
    }
  }

  return {
    ...inner,
    async logIn(input) {
      const attempt = await admitLogIn(input)
      return settleAttempt(attempt, () => inner.logIn(input))
    },
    async changePassword(principal, input) {
      const attempt = await admitPasswordChange(principal, input)
      return settleAttempt(attempt, () => inner.changePassword(principal, input))
    },
  }
}

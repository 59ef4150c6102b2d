/**
 * Puts the sign-in throttle around every flow that verifies a password: login and password
 * change. The throttle decides before any argon2 work, so a throttled answer is cheap and reads
 * the same for every username; only a wrong password (`invalid_credentials`) counts as a failure.
 */
import { TesseraError } from '../errors.ts'
import type { SignInAttempt, SignInThrottle } from '../throttle/sign-in-throttle.ts'
import type { Authentication } from './authentication.ts'

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

export function createThrottledAuthentication(inner: Authentication, throttle: SignInThrottle): Authentication {
  return {
    ...inner,
    async logIn(input) {
      const attempt = await throttle.admitSignIn({ username: input.username, ip: input.ip })
      return settleAttempt(attempt, () => inner.logIn(input))
    },
    async changePassword(principal, input) {
      const attempt = await throttle.admitSignIn({ username: principal.user.username, ip: input.ip })
      return settleAttempt(attempt, () => inner.changePassword(principal, input))
    },
  }
}

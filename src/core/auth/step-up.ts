/**
 * Step-up authentication: a sensitive operation (a password change, second-factor and passkey
 * changes, account deletion, email change, admin changes by an admin with a second factor) needs
 * the session to have been authenticated recently, with every factor the account has. The
 * session's `authenticatedAt` and `amr` say when and how; `POST /v1/auth/reauthenticate` renews
 * them without a new session. Each sensitive operation calls `requireRecentAuthentication()`
 * itself, so the rule holds whichever route or command reaches it.
 */
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import { isMultiFactor } from '../second-factor/authentication-methods.ts'

/** The parts of a signed-in caller the check reads. */
export interface AuthenticatedCaller {
  user: { id: string }
  session: { authenticatedAt: Date; amr: readonly string[] }
}

export interface StepUp {
  /**
   * Throws `reauthentication_required` (with `max_age`) unless the session was authenticated
   * within the configured age and, when the account has a second factor, with it.
   */
  requireRecentAuthentication(caller: AuthenticatedCaller): Promise<void>
  /**
   * For an operation that verifies the password itself (a password change): that proves `pwd`
   * now, so only an account with a second factor needs a recent authentication with it.
   */
  requireRecentSecondFactor(caller: AuthenticatedCaller): Promise<void>
}

export function createStepUp(deps: {
  clock: Clock
  maxAgeSeconds: number
  /** True when the account has a confirmed second factor. */
  hasSecondFactor(userId: string): Promise<boolean>
}): StepUp {
  const { clock, maxAgeSeconds, hasSecondFactor } = deps

  async function isRecentlyAuthenticated(caller: AuthenticatedCaller): Promise<boolean> {
    const ageMs = clock.now().getTime() - caller.session.authenticatedAt.getTime()
    if (ageMs > maxAgeSeconds * 1000) return false
    // A session from before the second factor was enrolled proved the password only.
    return isMultiFactor(caller.session.amr) || !(await hasSecondFactor(caller.user.id))
  }

  function refuse(): TesseraError {
    return new TesseraError(
      'reauthentication_required',
      'Confirm who you are again (POST /v1/auth/reauthenticate), then retry.',
      {
        details: { max_age: maxAgeSeconds },
      },
    )
  }

  return {
    async requireRecentAuthentication(caller) {
      if (!(await isRecentlyAuthenticated(caller))) throw refuse()
    },
    async requireRecentSecondFactor(caller) {
      if (!(await hasSecondFactor(caller.user.id))) return
      if (!(await isRecentlyAuthenticated(caller))) throw refuse()
    },
  }
}

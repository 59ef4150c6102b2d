/**
 * Account creation with its audit events: self-service registration, and accounts made by an
 * operator (CLI, bootstrap, admin API) with roles. A refused registration is recorded too
 * (taken name, rejected password), since a run of them is how enumeration looks.
 */
import type { Accounts } from '../accounts/accounts.ts'
import type { UserRecord } from '../accounts/store.ts'
import type { Audit } from '../audit/audit.ts'
import type { AuditReason } from '../audit/events.ts'
import { TesseraError, type ErrorCode } from '../errors.ts'
import type { RequestContext } from '../request-context.ts'

export interface Registration {
  /** Self-service sign-up with the default roles. */
  registerUser(input: { username: string; password: string }, context: RequestContext): Promise<UserRecord>
  /** An account made by an operator; `actorUserId` is null offline (CLI, bootstrap). */
  createUser(
    input: { username: string; password: string; roles: readonly string[] },
    actor: { actorUserId: string | null; context: RequestContext },
  ): Promise<UserRecord>
}

function reasonOf(code: ErrorCode): AuditReason {
  if (code === 'username_taken') return 'username_taken'
  if (code === 'invalid_username' || code === 'validation_failed') return 'invalid_input'
  return 'password_rejected'
}

export function createRegistration(deps: { accounts: Accounts; audit: Audit }): Registration {
  const { accounts, audit } = deps

  async function register(
    input: { username: string; password: string; roles?: readonly string[] },
    actor: { isSelfService: boolean; actorUserId: string | null; context: RequestContext },
  ): Promise<UserRecord> {
    const { isSelfService, actorUserId, context } = actor
    let user: UserRecord
    try {
      user = await accounts.registerUser(input)
    } catch (error) {
      if (error instanceof TesseraError) {
        await audit.record({
          type: 'registration_failed',
          outcome: 'failure',
          reason: reasonOf(error.code),
          actorUserId,
          username: input.username,
          context,
        })
      }
      throw error
    }
    // The password hash is computed inside registerUser, so the insert cannot share a
    // transaction with this event without holding the store through argon2; if this write
    // fails the request fails (503) and the server log keeps the event.
    await audit.record({
      type: isSelfService ? 'user_registered' : 'user_created',
      outcome: 'success',
      actorUserId: isSelfService ? user.id : actorUserId,
      subjectUserId: user.id,
      username: user.usernameKey,
      details: { roles: user.roles.join(',') },
      context,
    })
    return user
  }

  return {
    registerUser: ({ username, password }, context) =>
      register({ username, password }, { isSelfService: true, actorUserId: null, context }),
    createUser: (input, { actorUserId, context }) => register(input, { isSelfService: false, actorUserId, context }),
  }
}

/**
 * The life of an account after its creation, as operators and users change it: end all of a
 * user's sessions (a kick), disable and enable, delete (by an admin, or by the user after proving
 * who they are), set a password or require a new one at the next sign-in.
 *
 * Every session effect is decided in the durable store, in the unit of work that records it: the
 * user's session epoch moves on (or the account goes), so every session of the user, on every
 * node and in every session store, is over once the change is committed; the steps after the
 * commit (dropping copies, telling other nodes, deleting records from Redis) only tidy up. Each
 * operation that ends sessions names why (`SessionEndReason`) in its event.
 */
import { createHmac } from 'node:crypto'
import type { Accounts } from '../accounts/accounts.ts'
import { isLastAdministrator, lockAdministrators, refuseLastAdministrator } from '../accounts/last-admin.ts'
import type { UserRecord } from '../accounts/store.ts'
import type { Audit } from '../audit/audit.ts'
import type { AttemptedUsernames } from '../audit/attempted-username.ts'
import type { StepUp } from '../auth/step-up.ts'
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import type { RequestContext } from '../request-context.ts'
import type { SessionEndReason } from '../realtime/events.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { SignInThrottle } from '../throttle/sign-in-throttle.ts'
import type { Change, UnitOfWork } from '../unit-of-work.ts'
import type { AdminActor } from './account-admin.ts'
import type { Principal } from './sign-in.ts'

/** Longest note an administrator may give for disabling an account (kept in the audit trail). */
export const maxDisableNoteLength = 200

export interface EndedSessions {
  user: UserRecord
  /** How many live sessions the user had when they were ended. */
  endedSessions: number
}

export interface AccountLifecycleOperations {
  /** Ends every session and refresh-token family of the user at once (`kick`); throws `not_found`. */
  endUserSessions(userId: string, actor: AdminActor): Promise<EndedSessions>
  /**
   * Disables the account and ends all its sessions (`disabled`): its sign-in then gets the answer
   * of a wrong password, and its tokens are inactive. `note` (at most 200 characters) goes to the
   * audit trail. Idempotent. Throws `not_found`, `validation_failed`, `last_admin`.
   */
  disableUser(userId: string, note: string | null, actor: AdminActor): Promise<EndedSessions>
  /** Enables a disabled account again (its old sessions stay ended). Idempotent; throws `not_found`. */
  enableUser(userId: string, actor: AdminActor): Promise<UserRecord>
  /**
   * Deletes the account and everything that is its (`deleted`); its audit events stay, under a
   * pseudonym. Throws `not_found`, `last_admin`.
   */
  deleteUser(userId: string, actor: AdminActor): Promise<void>
  /**
   * The caller deletes their own account: needs a recent authentication (`reauthentication_required`)
   * and the current password (`invalid_credentials`, throttled as a sign-in is).
   */
  deleteMyAccount(principal: Principal, password: string, context: RequestContext): Promise<void>
  /**
   * Sets a new password chosen by an administrator (`password` given: checked against the policy,
   * every session ended with `password_set`) and/or requires the user to choose a new one before
   * anything else works. Throws `not_found`, `password_*`.
   */
  setUserPassword(
    userId: string,
    input: { password: string | null; isChangeRequired: boolean },
    actor: AdminActor,
  ): Promise<UserRecord>
  /** Throws `password_change_required` while the caller must choose a new password first. */
  requireNoPendingPasswordChange(principal: Principal): void
}

const pseudonymLength = 22

export function createAccountLifecycleOperations(deps: {
  accounts: Accounts
  sessions: Sessions
  throttle: SignInThrottle
  stepUp: StepUp
  audit: Audit
  usernames: AttemptedUsernames
  unitOfWork: UnitOfWork
  clock: Clock
  /** Derived from the master key for this purpose alone: the same pseudonyms on every node. */
  pseudonymSecret: Uint8Array
}): AccountLifecycleOperations {
  const { accounts, sessions, throttle, stepUp, audit, usernames, unitOfWork, clock, pseudonymSecret } = deps

  /** A deleted user's id in the trail: `~` and a keyed digest, so nobody without the master key can link it back. */
  function pseudonymize(userId: string): string {
    return `~${createHmac('sha256', pseudonymSecret).update(userId, 'utf8').digest('base64url').slice(0, pseudonymLength)}`
  }

  function about(user: UserRecord, actor: AdminActor) {
    return {
      outcome: 'success' as const,
      reason: 'admin_action' as const,
      actorUserId: actor.actorUserId,
      subjectUserId: user.id,
      username: user.usernameKey,
      context: actor.context,
    }
  }

  async function readUser(change: Change, userId: string): Promise<UserRecord> {
    const user = await change.stores.accounts.findUserById(userId)
    if (!user) throw new TesseraError('not_found', 'No such user.')
    return user
  }

  /** Records a refusal to remove the last administrator, then throws it. */
  async function refuseAsLastAdministrator(
    error: unknown,
    userId: string,
    action: string,
    actorUserId: string | null,
    context: RequestContext,
  ): Promise<never> {
    if (error instanceof TesseraError && error.code === 'last_admin') {
      await audit.record({
        type: 'admin_change_refused',
        outcome: 'failure',
        reason: 'last_admin',
        actorUserId,
        subjectUserId: userId,
        details: { action },
        context,
      })
    }
    throw error
  }

  /** Ends every session of the user inside `change`; the live ones are named by their number. */
  async function endEverySession(change: Change, userId: string, reason: SessionEndReason): Promise<UserRecord> {
    const updated = await sessions.endAllSessionsIn(change, userId, reason)
    if (!updated) throw new TesseraError('not_found', 'No such user.')
    return updated
  }

  async function countLiveSessions(userId: string): Promise<number> {
    // Read before the change (the session store may be Redis): an outage there refuses the
    // operation before anything changed.
    return (await sessions.listLiveSessions(userId)).length
  }

  async function remove(
    userId: string,
    actor: { actorUserId: string | null; isSelf: boolean; context: RequestContext },
  ): Promise<void> {
    const endedSessions = await countLiveSessions(userId)
    const user = await unitOfWork.run(async (change) => {
      const administrators = await lockAdministrators(change.stores.accounts)
      const before = await readUser(change, userId)
      if (isLastAdministrator(before, administrators)) throw refuseLastAdministrator()
      await endEverySession(change, userId, 'deleted')
      // Roles, sessions and refresh tokens kept in SQL, second factors and passkeys go with the
      // row (ON DELETE CASCADE); sessions in Redis are deleted after the commit.
      await change.stores.accounts.deleteUser(userId)
      const pseudonymousUserId = pseudonymize(userId)
      await change.stores.audit.pseudonymizeSubject({
        userId,
        pseudonymousUserId,
        usernameKey: before.usernameKey,
        // As a failed sign-in naming no account is kept: later attempts at the name group with these.
        pseudonymousUsername: usernames.describeKnown(before.usernameKey, false),
      })
      const reason: SessionEndReason = 'deleted'
      change.record({
        type: 'user_deleted',
        outcome: 'success',
        reason: actor.isSelf ? 'self_service' : 'admin_action',
        actorUserId: actor.isSelf ? pseudonymousUserId : actor.actorUserId,
        subjectUserId: pseudonymousUserId,
        details: { session_end_reason: reason, sessions: endedSessions },
        context: actor.context,
      })
      return before
    })
    // Counters live in the hot store and cannot share the transaction; the account is gone
    // either way, and counters left by a failure here expire on their own.
    await throttle.unlockAccount(user.username)
  }

  return {
    async endUserSessions(userId, actor) {
      const endedSessions = await countLiveSessions(userId)
      const user = await unitOfWork.run(async (change) => {
        const reason: SessionEndReason = 'kick'
        const updated = await endEverySession(change, userId, reason)
        change.record({
          type: 'user_sessions_ended',
          ...about(updated, actor),
          reason: 'revoked_by_admin',
          details: { session_end_reason: reason, sessions: endedSessions },
        })
        return updated
      })
      return { user, endedSessions }
    },

    async disableUser(userId, note, actor) {
      if (note !== null && (note.length > maxDisableNoteLength || !note.isWellFormed())) {
        throw new TesseraError('validation_failed', `The reason is at most ${maxDisableNoteLength} characters.`)
      }
      const endedSessions = await countLiveSessions(userId)
      try {
        const user = await unitOfWork.run(async (change) => {
          const administrators = await lockAdministrators(change.stores.accounts)
          const before = await readUser(change, userId)
          if (before.disabledAt !== null) return before
          if (isLastAdministrator(before, administrators)) throw refuseLastAdministrator()
          // The epoch moves on as well: enabling the account later brings no old session back.
          const reason: SessionEndReason = 'disabled'
          await endEverySession(change, userId, reason)
          const disabled = await change.stores.accounts.setUserDisabled(userId, clock.now(), clock.now())
          if (!disabled) throw new TesseraError('not_found', 'No such user.')
          change.record({
            type: 'user_disabled',
            ...about(disabled, actor),
            details: { session_end_reason: reason, sessions: endedSessions, note: note ?? null },
          })
          return disabled
        })
        return { user, endedSessions }
      } catch (error) {
        return refuseAsLastAdministrator(error, userId, 'disable', actor.actorUserId, actor.context)
      }
    },

    async enableUser(userId, actor) {
      return unitOfWork.run(async (change) => {
        const before = await readUser(change, userId)
        if (before.disabledAt === null) return before
        const enabled = await change.stores.accounts.setUserDisabled(userId, null, clock.now())
        if (!enabled) throw new TesseraError('not_found', 'No such user.')
        change.record({ type: 'user_enabled', ...about(enabled, actor) })
        change.afterCommit(() => sessions.announceUserChanged(userId))
        return enabled
      })
    },

    async deleteUser(userId, actor) {
      try {
        await remove(userId, { actorUserId: actor.actorUserId, isSelf: false, context: actor.context })
      } catch (error) {
        await refuseAsLastAdministrator(error, userId, 'delete', actor.actorUserId, actor.context)
      }
    },

    async deleteMyAccount(principal, password, context) {
      await stepUp.requireRecentAuthentication(principal)
      const { user } = principal
      const attempt = await throttle.admitSignIn({ username: user.username, ip: context.ip ?? '' })
      try {
        await accounts.verifyCurrentPassword({ userId: user.id, password })
      } catch (error) {
        if (error instanceof TesseraError && error.code === 'invalid_credentials') {
          await attempt.recordFailure()
          await audit.record({
            type: 'reauthentication_failed',
            outcome: 'failure',
            reason: 'bad_password',
            actorUserId: user.id,
            subjectUserId: user.id,
            sessionId: principal.session.id,
            details: { action: 'delete_account' },
            context,
          })
        } else {
          await attempt.cancel()
        }
        throw error
      }
      await attempt.recordSuccess()
      try {
        await remove(user.id, { actorUserId: user.id, isSelf: true, context })
      } catch (error) {
        await refuseAsLastAdministrator(error, user.id, 'delete', user.id, context)
      }
    },

    async setUserPassword(userId, { password, isChangeRequired }, actor) {
      const target = await accounts.findUser(userId)
      if (!target) throw new TesseraError('not_found', 'No such user.')
      // Hashed before the unit of work: a transaction never waits for argon2.
      const passwordHash = password === null ? null : await accounts.hashNewPassword(target, password)
      const endedSessions = passwordHash === null ? 0 : await countLiveSessions(userId)
      return unitOfWork.run(async (change) => {
        const before = await readUser(change, userId)
        let updated = before
        if (passwordHash !== null) {
          if (
            !(await change.stores.accounts.updatePasswordHash(
              userId,
              { from: before.passwordHash, to: passwordHash },
              clock.now(),
            ))
          ) {
            throw new TesseraError('not_found', 'No such user.')
          }
          // Whoever knew the old password, or holds a session from it, is out.
          updated = await endEverySession(change, userId, 'password_set')
        }
        if (!(await change.stores.accounts.setPasswordChangeRequired(userId, isChangeRequired, clock.now()))) {
          throw new TesseraError('not_found', 'No such user.')
        }
        updated = { ...updated, isPasswordChangeRequired: isChangeRequired }
        if (passwordHash !== null) {
          const reason: SessionEndReason = 'password_set'
          change.record({
            type: 'password_set',
            ...about(updated, actor),
            details: { session_end_reason: reason, sessions: endedSessions, change_required: isChangeRequired },
          })
        } else {
          change.record({
            type: 'password_change_required',
            ...about(updated, actor),
            details: { change_required: isChangeRequired },
          })
          change.afterCommit(() => sessions.announceUserChanged(userId))
        }
        return updated
      })
    },

    requireNoPendingPasswordChange(principal) {
      if (principal.user.isPasswordChangeRequired) {
        throw new TesseraError(
          'password_change_required',
          'An administrator requires a new password: change it (POST /v1/me/password) before anything else.',
        )
      }
    },
  }
}

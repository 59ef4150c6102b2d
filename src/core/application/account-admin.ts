/**
 * What operators do to accounts: find and list users, create them, replace their roles, import
 * them from another system, lift a sign-in lock-out. Every change is audited with who made it.
 */
import { normalizeRoles, type Accounts } from '../accounts/accounts.ts'
import { maxImportBatch, prepareImportedUser, type ImportEntry, type ImportResult } from '../accounts/import-users.ts'
import type { UserRecord } from '../accounts/store.ts'
import {
  isLastAdministrator,
  lockAdministrators,
  refuseLastAdministrator,
  administratorRole,
} from '../accounts/last-admin.ts'
import { normalizeUsernamePrefix } from '../accounts/username.ts'
import type { Audit, AuditEventInput } from '../audit/audit.ts'
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import type { Argon2Parameters } from '../passwords/argon2id.ts'
import type { RequestContext } from '../request-context.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { SessionRecord } from '../sessions/store.ts'
import type { SignInThrottle } from '../throttle/sign-in-throttle.ts'
import type { UnitOfWork } from '../unit-of-work.ts'
import type { RealtimeEvents } from '../realtime/event-feed.ts'

/** Who does an administrative action, for the audit trail; `actorUserId` is null offline (CLI, start-up). */
export interface AdminActor {
  actorUserId: string | null
  context: RequestContext
}

export interface AccountAdministration {
  /** Users ordered by username key, after the given key, at most `limit`. */
  listUsers(options: { after: string | null; limit: number }): Promise<UserRecord[]>
  findUser(userId: string): Promise<UserRecord | null>
  findUserByUsername(username: string): Promise<UserRecord | null>
  /** The user a reference names: its id, or its username in any spelling; throws `not_found`. */
  resolveUser(reference: string): Promise<UserRecord>
  /**
   * Users whose normalised username starts with the normalised `query`, ordered by it, after
   * the given key, at most `limit`.
   */
  searchUsers(options: { query: string; after: string | null; limit: number }): Promise<UserRecord[]>
  /** True when some account holds the role (start-up creates the first admin only when none does). */
  hasUserWithRole(role: string): Promise<boolean>
  /** An account made by an operator, with roles; throws `username_taken`, `invalid_username`, `password_*`. */
  createUser(
    input: { username: string; password: string; roles: readonly string[] },
    actor: AdminActor,
  ): Promise<UserRecord>
  /**
   * Replaces a user's roles; throws `not_found`, `validation_failed`, or `last_admin` when it would
   * take the admin role from the last enabled administrator. Live sessions see the change at once.
   */
  replaceUserRoles(userId: string, roles: readonly string[], actor: AdminActor): Promise<UserRecord>
  /** Imports users with existing hashes, each on its own; each imported user is an audit event. */
  importUsers(entries: readonly ImportEntry[], actor: AdminActor): Promise<ImportResult[]>
  /**
   * Clears the sign-in failure counters of a user, wherever they came from; returns the user and
   * how many counters were cleared. Throws `not_found`.
   */
  unlockUser(userId: string, actor: AdminActor): Promise<{ user: UserRecord; clearedCounters: number }>
  /** The same, by username (the CLI). */
  unlockUsername(username: string, actor: AdminActor): Promise<{ user: UserRecord; clearedCounters: number }>
  /** The user's live sessions, newest first (handles and metadata, never a token). */
  listUserSessions(userId: string): Promise<SessionRecord[]>
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function describeRoleChanges(before: UserRecord, after: UserRecord, actor: AdminActor): AuditEventInput[] {
  const about = {
    outcome: 'success' as const,
    reason: 'admin_action' as const,
    actorUserId: actor.actorUserId,
    subjectUserId: after.id,
    username: after.usernameKey,
    context: actor.context,
  }
  return [
    ...after.roles
      .filter((role) => !before.roles.includes(role))
      .map((role) => ({ type: 'role_granted' as const, details: { role }, ...about })),
    ...before.roles
      .filter((role) => !after.roles.includes(role))
      .map((role) => ({ type: 'role_revoked' as const, details: { role }, ...about })),
  ]
}

export function createAccountAdministration(deps: {
  accounts: Accounts
  sessions: Sessions
  throttle: SignInThrottle
  audit: Audit
  unitOfWork: UnitOfWork
  clock: Clock
  /** The configured argon2id parameters: an imported argon2id hash must keep within their bounds. */
  argon2: Argon2Parameters
  /** Tells stream clients of role changes. */
  events?: RealtimeEvents
}): AccountAdministration {
  const { accounts, sessions, throttle, audit, unitOfWork, clock, argon2 } = deps

  async function insertUser(
    user: UserRecord,
    describe: (user: UserRecord) => AuditEventInput,
  ): Promise<UserRecord | null> {
    return unitOfWork.run(async (change) => {
      if ((await change.stores.accounts.insertUser(user)) === 'username_taken') return null
      change.record(describe(user))
      return user
    })
  }

  async function unlock(user: UserRecord | null, actor: AdminActor) {
    if (!user) throw new TesseraError('not_found', 'No such user.')
    // The counters live in the hot store (Redis, when configured) and cannot share the event's
    // transaction: cleared first, then recorded. If the record fails, the request fails and the
    // observer keeps the event in the server log.
    const clearedCounters = await throttle.unlockAccount(user.username)
    await audit.record({
      type: 'account_unlocked',
      outcome: 'success',
      reason: 'admin_action',
      actorUserId: actor.actorUserId,
      subjectUserId: user.id,
      username: user.username,
      details: { cleared_counters: clearedCounters },
      context: actor.context,
    })
    return { user, clearedCounters }
  }

  return {
    listUsers: (options) => accounts.listUsers(options),
    findUser: (userId) => accounts.findUser(userId),
    findUserByUsername: (username) => accounts.findUserByUsername(username),

    async resolveUser(reference) {
      const user =
        (uuidPattern.test(reference) ? await accounts.findUser(reference.toLowerCase()) : null) ??
        (await accounts.findUserByUsername(reference))
      if (!user) throw new TesseraError('not_found', 'No such user.')
      return user
    },

    async searchUsers({ query, after, limit }) {
      const keyPrefix = normalizeUsernamePrefix(query)
      if (keyPrefix === null) return []
      return accounts.listUsers({ after, limit, keyPrefix })
    },
    hasUserWithRole: (role) => accounts.hasUserWithRole(role),

    async createUser(input, actor) {
      try {
        const prepared = await accounts.prepareUser(input)
        const user = await insertUser(prepared, (created) => ({
          type: 'user_created',
          outcome: 'success',
          actorUserId: actor.actorUserId,
          subjectUserId: created.id,
          username: created.usernameKey,
          details: { roles: created.roles.join(',') },
          context: actor.context,
        }))
        if (!user) throw new TesseraError('username_taken', 'This username is already taken.')
        return user
      } catch (error) {
        if (error instanceof TesseraError && error.code !== 'service_unavailable') {
          await audit.record({
            type: 'registration_failed',
            outcome: 'failure',
            reason:
              error.code === 'username_taken'
                ? 'username_taken'
                : error.code.startsWith('password')
                  ? 'password_rejected'
                  : 'invalid_input',
            actorUserId: actor.actorUserId,
            username: input.username,
            context: actor.context,
          })
        }
        throw error
      }
    },

    async replaceUserRoles(userId, roles, actor) {
      const normalized = normalizeRoles(roles)
      const updated = await unitOfWork
        .run(async (change) => {
          const administrators = await lockAdministrators(change.stores.accounts)
          const before = await change.stores.accounts.findUserById(userId)
          if (before && !normalized.includes(administratorRole) && isLastAdministrator(before, administrators)) {
            throw refuseLastAdministrator()
          }
          const after = before ? await change.stores.accounts.replaceRoles(userId, normalized, clock.now()) : null
          if (!before || !after) throw new TesseraError('not_found', 'No such user.')
          for (const event of describeRoleChanges(before, after, actor)) change.record(event)
          change.afterCommit(() => sessions.announceUserChanged(userId))
          change.afterCommit(() => deps.events?.publish({ type: 'roles_changed', userId, roles: after.roles }))
          return after
        })
        .catch(async (error: unknown) => {
          if (error instanceof TesseraError && error.code === 'last_admin') {
            await audit.record({
              type: 'admin_change_refused',
              outcome: 'failure',
              reason: 'last_admin',
              actorUserId: actor.actorUserId,
              subjectUserId: userId,
              details: { action: 'revoke_admin' },
              context: actor.context,
            })
          }
          throw error
        })
      return updated
    },

    async importUsers(entries, actor) {
      if (entries.length > maxImportBatch) {
        throw new TesseraError('validation_failed', `Import at most ${maxImportBatch} users at a time.`)
      }
      const results: ImportResult[] = []
      for (const entry of entries) {
        let prepared: UserRecord
        try {
          prepared = prepareImportedUser(entry, clock.now(), argon2)
        } catch (error) {
          if (!(error instanceof TesseraError)) throw error
          results.push({ outcome: 'failed', code: error.code, message: error.message })
          continue
        }
        const user = await insertUser(prepared, (imported) => ({
          type: 'user_imported',
          outcome: 'success',
          actorUserId: actor.actorUserId,
          subjectUserId: imported.id,
          username: imported.username,
          details: { roles: imported.roles.join(',') },
          context: actor.context,
        }))
        results.push(user ? { outcome: 'imported', user } : { outcome: 'exists', username: prepared.username })
      }
      return results
    },

    unlockUser: async (userId, actor) => unlock(await accounts.findUser(userId), actor),
    unlockUsername: async (username, actor) => unlock(await accounts.findUserByUsername(username), actor),
    listUserSessions: (userId) => sessions.listLiveSessions(userId),
  }
}

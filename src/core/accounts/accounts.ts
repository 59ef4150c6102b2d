/**
 * Accounts: registration, password checks and changes, roles. Unknown users, wrong passwords
 * and disabled accounts all come back as the same `null` after the same argon2 work, so a caller
 * cannot tell them apart by answer or by time.
 */
import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import { createBlocklistedError, type PasswordBlocklist } from '../passwords/blocklist.ts'
import type { PasswordHasher } from '../passwords/password-hasher.ts'
import {
  assertPasswordAcceptable,
  isPasswordOversized,
  maxPasswordBytes,
  normalizePassword,
  type PasswordPolicy,
} from '../passwords/policy.ts'
import type { AccountStore, UserRecord } from './store.ts'
import { normalizeUsername, requireValidUsername } from './username.ts'

export const defaultRoles: readonly string[] = ['user']
const rolePattern = /^[a-z][a-z0-9_:-]{0,31}$/
const maxRolesPerUser = 32

export interface Accounts {
  /**
   * Builds the record of a new account, password hashed; nothing is stored yet (the caller
   * inserts it in a unit of work with its event). Throws `invalid_username` or `password_*`.
   */
  prepareUser(input: { username: string; password: string; roles?: readonly string[] }): Promise<UserRecord>
  /** The user when the password is right and the account enabled; otherwise null. */
  authenticateUser(input: { username: string; password: string }): Promise<UserRecord | null>
  /**
   * Checks the current password and hashes the new one; nothing is stored yet. Throws
   * `invalid_credentials` or `password_*`. `from` is the hash the change must replace.
   */
  preparePasswordChange(input: {
    userId: string
    currentPassword: string
    newPassword: string
  }): Promise<PreparedPasswordChange>
  /**
   * Hashes a new password for `user` without the current one (a reset by email): the same rules
   * as registration. Throws `password_*`. `from` is the hash the change must replace.
   */
  prepareReplacementPassword(user: UserRecord, newPassword: string): Promise<PreparedPasswordChange>
  /** The user when `password` is its current one; throws `invalid_credentials` otherwise. */
  verifyCurrentPassword(input: { userId: string; password: string }): Promise<UserRecord>
  /** Checks a password an administrator sets for `user` against the policy and hashes it. Throws `password_*`. */
  hashNewPassword(user: UserRecord, password: string): Promise<string>
  findUser(userId: string): Promise<UserRecord | null>
  findUserByUsername(username: string): Promise<UserRecord | null>
  /** False when the stored hash is one no password can match here (see argon2-bounds.ts). */
  hasUsablePasswordHash(user: UserRecord): boolean
  /** Users by username key after `after`; only keys starting with `keyPrefix` when given. */
  listUsers(options: { after: string | null; limit: number; keyPrefix?: string }): Promise<UserRecord[]>
  hasUserWithRole(role: string): Promise<boolean>
}

export interface PreparedPasswordChange {
  user: UserRecord
  change: { from: string; to: string }
}

export function normalizeRoles(roles: readonly string[]): string[] {
  const unique = [...new Set(roles)].sort()
  if (unique.length > maxRolesPerUser || unique.some((role) => !rolePattern.test(role))) {
    throw new TesseraError(
      'validation_failed',
      'Roles are 1 to 32 lower-case letters, digits, "_", ":" or "-", starting with a letter.',
    )
  }
  return unique
}

export function createAccounts(deps: {
  store: AccountStore
  clock: Clock
  hasher: PasswordHasher
  policy: PasswordPolicy
  blocklist: PasswordBlocklist
}): Accounts {
  const { store, clock, hasher, policy, blocklist } = deps

  async function prepareNewPassword(password: string, username: string): Promise<string> {
    if (isPasswordOversized(password, policy)) {
      throw new TesseraError(
        'password_too_long',
        `The password must be at most ${policy.maxLength} characters and ${maxPasswordBytes} bytes (UTF-8) long.`,
        { details: { max_length: policy.maxLength, max_bytes: maxPasswordBytes } },
      )
    }
    const normalized = normalizePassword(password)
    assertPasswordAcceptable(password, normalized, policy)
    const weakness = await blocklist.findWeakness(normalized, { username, minLength: policy.minLength })
    if (weakness) throw createBlocklistedError(weakness)
    return normalized
  }

  async function upgradeHash(user: UserRecord, password: string): Promise<void> {
    const passwordHash = await hasher.hashPassword(password)
    // Only over the hash just verified: a password changed meanwhile stays changed.
    await store.updatePasswordHash(user.id, { from: user.passwordHash, to: passwordHash }, clock.now())
  }

  return {
    async prepareUser({ username, password, roles = defaultRoles }) {
      const name = requireValidUsername(username)
      const normalizedPassword = await prepareNewPassword(password, name.display)
      const now = clock.now()
      const user: UserRecord = {
        id: randomUUID(),
        username: name.display,
        usernameKey: name.key,
        usernameSkeleton: name.skeleton,
        passwordHash: await hasher.hashPassword(normalizedPassword),
        roles: normalizeRoles(roles),
        disabledAt: null,
        sessionEpoch: 0,
        isPasswordChangeRequired: false,
        createdAt: now,
        updatedAt: now,
      }
      return user
    },

    async authenticateUser({ username, password }) {
      const name = normalizeUsername(username)
      const isUsable = !isPasswordOversized(password, policy) && password.isWellFormed()
      const normalizedPassword = isUsable ? password.normalize('NFKC') : ''
      const user = name && isUsable ? await store.findUserByUsernameKey(name.key) : null
      if (!user) {
        await hasher.verifyAgainstDummy(normalizedPassword)
        return null
      }
      const verification = await hasher.verifyPassword(normalizedPassword, user.passwordHash)
      if (!verification.matches || user.disabledAt !== null) return null
      if (verification.isRehashNeeded) await upgradeHash(user, normalizedPassword)
      return user
    },

    async preparePasswordChange({ userId, currentPassword, newPassword }) {
      const user = await store.findUserById(userId)
      const current =
        currentPassword.isWellFormed() && !isPasswordOversized(currentPassword, policy)
          ? currentPassword.normalize('NFKC')
          : null
      if (!user || current === null) {
        throw new TesseraError('invalid_credentials', 'The current password is not correct.')
      }
      const normalizedNew = await prepareNewPassword(newPassword, user.username)
      const verification = await hasher.verifyPassword(current, user.passwordHash)
      if (!verification.matches) {
        throw new TesseraError('invalid_credentials', 'The current password is not correct.')
      }
      return { user, change: { from: user.passwordHash, to: await hasher.hashPassword(normalizedNew) } }
    },

    async prepareReplacementPassword(user, newPassword) {
      const normalizedNew = await prepareNewPassword(newPassword, user.username)
      return { user, change: { from: user.passwordHash, to: await hasher.hashPassword(normalizedNew) } }
    },

    async verifyCurrentPassword({ userId, password }) {
      const user = await store.findUserById(userId)
      const current =
        password.isWellFormed() && !isPasswordOversized(password, policy) ? password.normalize('NFKC') : null
      if (!user || current === null) {
        await hasher.verifyAgainstDummy(current ?? '')
        throw new TesseraError('invalid_credentials', 'The password is not correct.')
      }
      const verification = await hasher.verifyPassword(current, user.passwordHash)
      if (!verification.matches) throw new TesseraError('invalid_credentials', 'The password is not correct.')
      return user
    },

    async hashNewPassword(user, password) {
      return hasher.hashPassword(await prepareNewPassword(password, user.username))
    },

    findUser: (userId) => store.findUserById(userId),

    async findUserByUsername(username) {
      const name = normalizeUsername(username)
      return name ? store.findUserByUsernameKey(name.key) : null
    },

    hasUsablePasswordHash: (user) => hasher.isHashUsable(user.passwordHash),

    listUsers: ({ after, limit, keyPrefix }) =>
      store.listUsers({ afterUsernameKey: after, limit, ...(keyPrefix === undefined ? {} : { keyPrefix }) }),

    hasUserWithRole: (role) => store.hasUserWithRole(role),
  }
}

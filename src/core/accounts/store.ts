export interface UserRecord {
  /** Random UUID: ids are never sequential. */
  id: string
  /** NFKC form, case kept. */
  username: string
  /** Case-folded NFKC form; unique. */
  usernameKey: string
  /**
   * Confusable skeleton of the key (username-skeleton.ts); unique when set. Null only for an
   * account older than skeletons whose skeleton another account already held.
   */
  usernameSkeleton: string | null
  /** argon2id PHC string. */
  passwordHash: string
  roles: string[]
  disabledAt: Date | null
  /**
   * Advanced whenever every session of the user must end at once (password change, disable, sign
   * out everywhere): a session started under an earlier epoch is over, wherever it is stored.
   */
  sessionEpoch: number
  /** Set by an administrator: the user must choose a new password before anything else works. */
  isPasswordChangeRequired: boolean
  createdAt: Date
  updatedAt: Date
}

export type InsertUserOutcome = 'inserted' | 'username_taken'

export interface AccountStore {
  /** Inserts a user with its roles; `username_taken` when the username key or skeleton exists. */
  insertUser(user: UserRecord): Promise<InsertUserOutcome>
  /** Returns the user with this id, or null. */
  findUserById(id: string): Promise<UserRecord | null>
  /** Returns the user whose case-folded username is `usernameKey`, or null. */
  findUserByUsernameKey(usernameKey: string): Promise<UserRecord | null>
  /**
   * Replaces the password hash only while it is still `from` (so a rehash never undoes a
   * concurrent change); false when the user does not exist or the hash changed meanwhile.
   */
  updatePasswordHash(userId: string, change: { from: string; to: string }, updatedAt: Date): Promise<boolean>
  /** Advances the user's session epoch (ending every session); the updated user, or null. */
  advanceSessionEpoch(userId: string, updatedAt: Date): Promise<UserRecord | null>
  /** Replaces the user's roles; returns the updated user, or null when it does not exist. */
  replaceRoles(userId: string, roles: string[], updatedAt: Date): Promise<UserRecord | null>
  /**
   * Users ordered by username key, starting after `afterUsernameKey`, at most `limit`; only those
   * whose key starts with `keyPrefix` when it is given.
   */
  listUsers(options: { afterUsernameKey: string | null; limit: number; keyPrefix?: string }): Promise<UserRecord[]>
  /**
   * Disables the user at `disabledAt`, or enables it again with null; the updated user, or null
   * when it does not exist.
   */
  setUserDisabled(userId: string, disabledAt: Date | null, updatedAt: Date): Promise<UserRecord | null>
  /** Sets or clears the requirement to choose a new password; false when the user does not exist. */
  setPasswordChangeRequired(userId: string, isRequired: boolean, updatedAt: Date): Promise<boolean>
  /**
   * Deletes the user; everything that belongs to it (roles, sessions kept in this store, refresh
   * tokens, second factors, passkeys) goes with it. False when it did not exist.
   */
  deleteUser(userId: string): Promise<boolean>
  /**
   * The ids of the enabled users holding `role`, at most `limit`. Inside a unit of work it
   * serialises with every other call for the same role until the transaction ends, so a check
   * of who holds a role and the change it guards are one step (two demotions of the last two
   * admins cannot both see the other one still there).
   */
  lockActiveRoleHolders(role: string, limit: number): Promise<string[]>
  /** True when at least one user holds `role`. */
  hasUserWithRole(role: string): Promise<boolean>
  /** Users without a skeleton, by id after `afterId`, at most `limit` (id and key only matter). */
  listUsersWithoutSkeleton(options: { afterId: string | null; limit: number }): Promise<UserRecord[]>
  /** Sets a missing skeleton; false when another user holds it (or the user has one already). */
  setUsernameSkeleton(userId: string, skeleton: string): Promise<boolean>
}

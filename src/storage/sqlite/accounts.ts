import type { DatabaseSync } from 'node:sqlite'
import type { AccountStore, UserRecord } from '../../core/accounts/store.ts'
import { runAtomically } from './transaction.ts'

const userColumns = `u.id, u.username, u.username_key, u.username_skeleton, u.password_hash, u.disabled_at, u.session_epoch,
  u.password_change_required, u.created_at, u.updated_at, (SELECT group_concat(role, ' ') FROM user_roles r WHERE r.user_id = u.id) AS roles`

function toUser(row: Record<string, unknown>): UserRecord {
  const roles = typeof row.roles === 'string' && row.roles !== '' ? row.roles.split(' ').sort() : []
  return {
    id: String(row.id),
    username: String(row.username),
    usernameKey: String(row.username_key),
    usernameSkeleton: row.username_skeleton === null ? null : String(row.username_skeleton),
    passwordHash: String(row.password_hash),
    roles,
    disabledAt: row.disabled_at === null ? null : new Date(Number(row.disabled_at)),
    sessionEpoch: Number(row.session_epoch),
    isPasswordChangeRequired: Number(row.password_change_required) === 1,
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof Error &&
    'errcode' in error &&
    // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY
    (error.errcode === 2067 || error.errcode === 1555)
  )
}

/**
 * The first key after every key that starts with `prefix` (keys are compared as UTF-8 bytes, in
 * which U+10FFFF sorts after every character a key can hold).
 */
export function prefixEnd(prefix: string): string {
  return `${prefix}\u{10FFFF}`
}

export function createSqliteAccountStore(db: DatabaseSync): AccountStore {
  const insertUser = db.prepare(`INSERT INTO users
    (id, username, username_key, username_skeleton, password_hash, disabled_at, session_epoch, password_change_required,
     created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const insertRole = db.prepare('INSERT INTO user_roles (user_id, role) VALUES (?, ?)')
  const deleteRoles = db.prepare('DELETE FROM user_roles WHERE user_id = ?')
  const findById = db.prepare(`SELECT ${userColumns} FROM users u WHERE u.id = ?`)
  const findByKey = db.prepare(`SELECT ${userColumns} FROM users u WHERE u.username_key = ?`)
  const updateHash = db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?')
  const advanceEpoch = db.prepare('UPDATE users SET session_epoch = session_epoch + 1, updated_at = ? WHERE id = ?')
  const touchUser = db.prepare('UPDATE users SET updated_at = ? WHERE id = ?')
  const listFirst = db.prepare(`SELECT ${userColumns} FROM users u ORDER BY u.username_key LIMIT ?`)
  const listAfter = db.prepare(
    `SELECT ${userColumns} FROM users u WHERE u.username_key > ? ORDER BY u.username_key LIMIT ?`,
  )
  const prefixFirst = db.prepare(
    `SELECT ${userColumns} FROM users u WHERE u.username_key >= ? AND u.username_key < ? ORDER BY u.username_key LIMIT ?`,
  )
  const prefixAfter = db.prepare(
    `SELECT ${userColumns} FROM users u WHERE u.username_key > ? AND u.username_key >= ? AND u.username_key < ?
     ORDER BY u.username_key LIMIT ?`,
  )
  const setDisabled = db.prepare('UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ?')
  const setChangeRequired = db.prepare('UPDATE users SET password_change_required = ?, updated_at = ? WHERE id = ?')
  const deleteById = db.prepare('DELETE FROM users WHERE id = ?')
  const activeHolders = db.prepare(`SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
    WHERE r.role = ? AND u.disabled_at IS NULL ORDER BY u.id LIMIT ?`)
  const roleHolder = db.prepare('SELECT 1 FROM user_roles WHERE role = ? LIMIT 1')
  const withoutSkeletonFirst = db.prepare(
    `SELECT ${userColumns} FROM users u WHERE u.username_skeleton IS NULL ORDER BY u.id LIMIT ?`,
  )
  const withoutSkeletonAfter = db.prepare(
    `SELECT ${userColumns} FROM users u WHERE u.username_skeleton IS NULL AND u.id > ? ORDER BY u.id LIMIT ?`,
  )
  const setSkeleton = db.prepare('UPDATE users SET username_skeleton = ? WHERE id = ? AND username_skeleton IS NULL')

  return {
    async insertUser(user) {
      try {
        runAtomically(db, () => {
          insertUser.run(
            user.id,
            user.username,
            user.usernameKey,
            user.usernameSkeleton,
            user.passwordHash,
            user.disabledAt?.getTime() ?? null,
            user.sessionEpoch,
            user.isPasswordChangeRequired ? 1 : 0,
            user.createdAt.getTime(),
            user.updatedAt.getTime(),
          )
          for (const role of user.roles) insertRole.run(user.id, role)
        })
        return 'inserted'
      } catch (error) {
        if (isUniqueViolation(error)) return 'username_taken'
        throw error
      }
    },

    async findUserById(id) {
      const row = findById.get(id)
      return row ? toUser(row) : null
    },

    async findUserByUsernameKey(usernameKey) {
      const row = findByKey.get(usernameKey)
      return row ? toUser(row) : null
    },

    async updatePasswordHash(userId, { from, to }, updatedAt) {
      return Number(updateHash.run(to, updatedAt.getTime(), userId, from).changes) === 1
    },

    async advanceSessionEpoch(userId, updatedAt) {
      return runAtomically(db, () => {
        if (Number(advanceEpoch.run(updatedAt.getTime(), userId).changes) !== 1) return null
        const row = findById.get(userId)
        return row ? toUser(row) : null
      })
    },

    async replaceRoles(userId, roles, updatedAt) {
      return runAtomically(db, () => {
        if (Number(touchUser.run(updatedAt.getTime(), userId).changes) !== 1) return null
        deleteRoles.run(userId)
        for (const role of roles) insertRole.run(userId, role)
        const row = findById.get(userId)
        return row ? toUser(row) : null
      })
    },

    async listUsers({ afterUsernameKey, limit, keyPrefix }) {
      if (keyPrefix !== undefined) {
        const end = prefixEnd(keyPrefix)
        const rows =
          afterUsernameKey === null
            ? prefixFirst.all(keyPrefix, end, limit)
            : prefixAfter.all(afterUsernameKey, keyPrefix, end, limit)
        return rows.map(toUser)
      }
      const rows = afterUsernameKey === null ? listFirst.all(limit) : listAfter.all(afterUsernameKey, limit)
      return rows.map(toUser)
    },

    async setUserDisabled(userId, disabledAt, updatedAt) {
      return runAtomically(db, () => {
        if (Number(setDisabled.run(disabledAt?.getTime() ?? null, updatedAt.getTime(), userId).changes) !== 1)
          return null
        const row = findById.get(userId)
        return row ? toUser(row) : null
      })
    },

    async setPasswordChangeRequired(userId, isRequired, updatedAt) {
      return Number(setChangeRequired.run(isRequired ? 1 : 0, updatedAt.getTime(), userId).changes) === 1
    },

    async deleteUser(userId) {
      return Number(deleteById.run(userId).changes) === 1
    },

    // Every write to this database runs in BEGIN IMMEDIATE, one at a time: inside a unit of
    // work, nothing else changes roles until it ends.
    async lockActiveRoleHolders(role, limit) {
      return activeHolders.all(role, limit).map((row) => String(row.id))
    },

    async hasUserWithRole(role) {
      return roleHolder.get(role) !== undefined
    },

    async listUsersWithoutSkeleton({ afterId, limit }) {
      const rows = afterId === null ? withoutSkeletonFirst.all(limit) : withoutSkeletonAfter.all(afterId, limit)
      return rows.map(toUser)
    },

    async setUsernameSkeleton(userId, skeleton) {
      try {
        return Number(setSkeleton.run(skeleton, userId).changes) === 1
      } catch (error) {
        if (isUniqueViolation(error)) return false
        throw error
      }
    },
  }
}

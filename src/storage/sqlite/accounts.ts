import type { DatabaseSync } from 'node:sqlite'
import type { AccountStore, UserRecord } from '../../core/accounts/store.ts'
import { runAtomically } from './transaction.ts'

const userColumns = `u.id, u.username, u.username_key, u.username_skeleton, u.password_hash, u.disabled_at, u.session_epoch,
  u.created_at, u.updated_at, (SELECT group_concat(role, ' ') FROM user_roles r WHERE r.user_id = u.id) AS roles`

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

export function createSqliteAccountStore(db: DatabaseSync): AccountStore {
  const insertUser = db.prepare(`INSERT INTO users
    (id, username, username_key, username_skeleton, password_hash, disabled_at, session_epoch, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
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
  const roleHolder = db.prepare('SELECT 1 FROM user_roles WHERE role = ? LIMIT 1')
  const withoutSkeletonFirst = db.prepare(`SELECT ${userColumns} FROM users u WHERE u.username_skeleton IS NULL ORDER BY u.id LIMIT ?`)
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

    async listUsers({ afterUsernameKey, limit }) {
      const rows = afterUsernameKey === null ? listFirst.all(limit) : listAfter.all(afterUsernameKey, limit)
      return rows.map(toUser)
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

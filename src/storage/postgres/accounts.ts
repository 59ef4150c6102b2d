import type { AccountStore, UserRecord } from '../../core/accounts/store.ts'
import { readSqlState, type SqlSession, type Queryable, type Row } from './database.ts'

const userColumns = `u.id, u.username, u.username_key, u.username_skeleton, u.password_hash, u.disabled_at, u.session_epoch,
  u.password_change_required, u.created_at, u.updated_at, ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = u.id ORDER BY r.role) AS roles`

function toUser(row: Row): UserRecord {
  return {
    id: String(row.id),
    username: String(row.username),
    usernameKey: String(row.username_key),
    usernameSkeleton: row.username_skeleton === null ? null : String(row.username_skeleton),
    passwordHash: String(row.password_hash),
    roles: Array.isArray(row.roles) ? row.roles.map(String) : [],
    disabledAt: row.disabled_at instanceof Date ? row.disabled_at : null,
    sessionEpoch: Number(row.session_epoch),
    isPasswordChangeRequired: row.password_change_required === true,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  }
}

async function findById(db: Queryable, id: string): Promise<UserRecord | null> {
  const [row] = await db.query(`SELECT ${userColumns} FROM users u WHERE u.id = $1`, [id])
  return row ? toUser(row) : null
}

export function createPostgresAccountStore(db: SqlSession): AccountStore {
  return {
    async insertUser(user) {
      try {
        await db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO users (id, username, username_key, username_skeleton, password_hash, disabled_at, session_epoch,
               password_change_required, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
            [
              user.id,
              user.username,
              user.usernameKey,
              user.usernameSkeleton,
              user.passwordHash,
              user.disabledAt,
              user.sessionEpoch,
              user.isPasswordChangeRequired,
              user.createdAt,
              user.updatedAt,
            ],
          )
          await tx.query('INSERT INTO user_roles (user_id, role) SELECT $1, unnest($2::text[])', [user.id, user.roles])
        })
        return 'inserted'
      } catch (error) {
        if (readSqlState(error) === '23505') return 'username_taken'
        throw error
      }
    },

    findUserById: (id) => findById(db, id),

    async findUserByUsernameKey(usernameKey) {
      const [row] = await db.query(`SELECT ${userColumns} FROM users u WHERE u.username_key = $1`, [usernameKey])
      return row ? toUser(row) : null
    },

    async updatePasswordHash(userId, { from, to }, updatedAt) {
      const rows = await db.query(
        'UPDATE users SET password_hash = $3, updated_at = $4 WHERE id = $1 AND password_hash = $2 RETURNING id',
        [userId, from, to, updatedAt],
      )
      return rows.length === 1
    },

    async advanceSessionEpoch(userId, updatedAt) {
      const rows = await db.query(
        `UPDATE users SET session_epoch = session_epoch + 1, updated_at = $2 WHERE id = $1 RETURNING id`,
        [userId, updatedAt],
      )
      return rows.length === 1 ? findById(db, userId) : null
    },

    async replaceRoles(userId, roles, updatedAt) {
      return db.transaction(async (tx) => {
        // Locks the user row, so two concurrent replacements apply one after the other.
        const touched = await tx.query('UPDATE users SET updated_at = $2 WHERE id = $1 RETURNING id', [
          userId,
          updatedAt,
        ])
        if (touched.length !== 1) return null
        await tx.query('DELETE FROM user_roles WHERE user_id = $1', [userId])
        await tx.query('INSERT INTO user_roles (user_id, role) SELECT $1, unnest($2::text[])', [userId, roles])
        return findById(tx, userId)
      })
    },

    async listUsers({ afterUsernameKey, limit, keyPrefix }) {
      if (keyPrefix !== undefined) {
        // username_key is COLLATE "C": compared byte by byte, so a prefix is a range.
        const rows = await db.query(
          `SELECT ${userColumns} FROM users u WHERE u.username_key >= $1 AND u.username_key < $2
             AND ($3::text IS NULL OR u.username_key > $3) ORDER BY u.username_key LIMIT $4`,
          [keyPrefix, `${keyPrefix}\u{10FFFF}`, afterUsernameKey, limit],
        )
        return rows.map(toUser)
      }
      const rows =
        afterUsernameKey === null
          ? await db.query(`SELECT ${userColumns} FROM users u ORDER BY u.username_key LIMIT $1`, [limit])
          : await db.query(
              `SELECT ${userColumns} FROM users u WHERE u.username_key > $1 ORDER BY u.username_key LIMIT $2`,
              [afterUsernameKey, limit],
            )
      return rows.map(toUser)
    },

    async setUserDisabled(userId, disabledAt, updatedAt) {
      const rows = await db.query('UPDATE users SET disabled_at = $2, updated_at = $3 WHERE id = $1 RETURNING id', [
        userId,
        disabledAt,
        updatedAt,
      ])
      return rows.length === 1 ? findById(db, userId) : null
    },

    async setPasswordChangeRequired(userId, isRequired, updatedAt) {
      const rows = await db.query(
        'UPDATE users SET password_change_required = $2, updated_at = $3 WHERE id = $1 RETURNING id',
        [userId, isRequired, updatedAt],
      )
      return rows.length === 1
    },

    async deleteUser(userId) {
      return (await db.query('DELETE FROM users WHERE id = $1 RETURNING id', [userId])).length === 1
    },

    async lockActiveRoleHolders(role, limit) {
      // A transaction-scoped advisory lock per role: every guarded change of the role's holders
      // takes it first, so each sees the others' committed result (READ COMMITTED reads afresh
      // per statement) instead of a snapshot from before them.
      await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tessera role holders ${role}`])
      const rows = await db.query(
        `SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
         WHERE r.role = $1 AND u.disabled_at IS NULL ORDER BY u.id LIMIT $2`,
        [role, limit],
      )
      return rows.map((row) => String(row.id))
    },

    async hasUserWithRole(role) {
      return (await db.query('SELECT 1 FROM user_roles WHERE role = $1 LIMIT 1', [role])).length > 0
    },

    async listUsersWithoutSkeleton({ afterId, limit }) {
      const rows =
        afterId === null
          ? await db.query(
              `SELECT ${userColumns} FROM users u WHERE u.username_skeleton IS NULL ORDER BY u.id LIMIT $1`,
              [limit],
            )
          : await db.query(
              `SELECT ${userColumns} FROM users u WHERE u.username_skeleton IS NULL AND u.id > $1 ORDER BY u.id LIMIT $2`,
              [afterId, limit],
            )
      return rows.map(toUser)
    },

    async setUsernameSkeleton(userId, skeleton) {
      try {
        const rows = await db.query(
          'UPDATE users SET username_skeleton = $2 WHERE id = $1 AND username_skeleton IS NULL RETURNING id',
          [userId, skeleton],
        )
        return rows.length === 1
      } catch (error) {
        if (readSqlState(error) === '23505') return false
        throw error
      }
    },
  }
}

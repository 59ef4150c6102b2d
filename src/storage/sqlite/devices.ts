import type { DatabaseSync } from 'node:sqlite'
import { guestUsernameKeyPrefix, type DeviceRecord, type DeviceStore } from '../../core/devices/store.ts'
import { runAtomically } from './transaction.ts'

function toDevice(row: Record<string, unknown>): DeviceRecord {
  return {
    id: String(row.id),
    deviceId: String(row.device_id),
    userId: String(row.user_id),
    secretHash: String(row.secret_hash),
    createdAt: new Date(Number(row.created_at)),
    lastUsedAt: new Date(Number(row.last_used_at)),
  }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && 'errcode' in error && (error.errcode === 2067 || error.errcode === 1555)
}

// The prefix has no LIKE wildcard; a range on the key uses its unique index.
const guestKeyRange = `username_key >= '${guestUsernameKeyPrefix}' AND username_key < '${guestUsernameKeyPrefix.slice(0, -1)};'`

export function createSqliteDeviceStore(db: DatabaseSync): DeviceStore {
  const insert = db.prepare(`INSERT INTO devices (id, device_id, user_id, secret_hash, created_at, last_used_at)
    VALUES (?, ?, ?, ?, ?, ?)`)
  const findByDeviceId = db.prepare('SELECT * FROM devices WHERE device_id = ?')
  const listByUser = db.prepare('SELECT * FROM devices WHERE user_id = ? ORDER BY created_at, id')
  const deleteOfUser = db.prepare('DELETE FROM devices WHERE user_id = ? AND id = ?')
  const touch = db.prepare('UPDATE devices SET last_used_at = max(last_used_at, ?) WHERE id = ?')
  const setCredentials =
    db.prepare(`UPDATE users SET username = ?, username_key = ?, username_skeleton = ?, password_hash = ?,
    updated_at = ? WHERE id = ? AND ${guestKeyRange}`)
  const deleteRoles = db.prepare('DELETE FROM user_roles WHERE user_id = ?')
  const insertRole = db.prepare('INSERT INTO user_roles (user_id, role) VALUES (?, ?)')
  const deleteUnused = db.prepare(`DELETE FROM users WHERE id IN (
    SELECT id FROM users u WHERE ${guestKeyRange} AND u.created_at < ?
      AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.last_used_at >= ?)
    LIMIT ?) RETURNING id`)

  return {
    async insertDevice(device) {
      try {
        insert.run(
          device.id,
          device.deviceId,
          device.userId,
          device.secretHash,
          device.createdAt.getTime(),
          device.lastUsedAt.getTime(),
        )
        return 'inserted'
      } catch (error) {
        if (isUniqueViolation(error)) return 'device_taken'
        throw error
      }
    },

    async findDeviceByDeviceId(deviceId) {
      const row = findByDeviceId.get(deviceId)
      return row ? toDevice(row) : null
    },

    async listUserDevices(userId) {
      return listByUser.all(userId).map(toDevice)
    },

    async deleteUserDevice(userId, id) {
      return Number(deleteOfUser.run(userId, id).changes) === 1
    },

    async touchDevice(id, lastUsedAt) {
      touch.run(lastUsedAt.getTime(), id)
    },

    async setGuestCredentials(userId, credentials, roles, updatedAt) {
      try {
        return runAtomically(db, () => {
          const changed = setCredentials.run(
            credentials.username,
            credentials.usernameKey,
            credentials.usernameSkeleton,
            credentials.passwordHash,
            updatedAt.getTime(),
            userId,
          )
          if (Number(changed.changes) !== 1) return 'not_guest'
          deleteRoles.run(userId)
          for (const role of roles) insertRole.run(userId, role)
          return 'set'
        })
      } catch (error) {
        if (isUniqueViolation(error)) return 'username_taken'
        throw error
      }
    },

    async deleteUnusedGuests(cutoff, limit) {
      return deleteUnused.all(cutoff.getTime(), cutoff.getTime(), limit).map((row) => String(row.id))
    },
  }
}

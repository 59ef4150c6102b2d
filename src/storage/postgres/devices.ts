import { guestUsernameKeyPrefix, type DeviceRecord, type DeviceStore } from '../../core/devices/store.ts'
import { readSqlState, type Row, type SqlSession } from './database.ts'

function toDevice(row: Row): DeviceRecord {
  return {
    id: String(row.id),
    deviceId: String(row.device_id),
    userId: String(row.user_id),
    secretHash: String(row.secret_hash),
    createdAt: new Date(row.created_at as Date),
    lastUsedAt: new Date(row.last_used_at as Date),
  }
}

// The prefix has no LIKE wildcard; a range on the key uses its unique index (in byte order).
const guestKeyRange = `username_key COLLATE "C" >= '${guestUsernameKeyPrefix}' AND username_key COLLATE "C" < '${guestUsernameKeyPrefix.slice(0, -1)};'`

export function createPostgresDeviceStore(db: SqlSession): DeviceStore {
  return {
    async insertDevice(device) {
      try {
        await db.query(
          'INSERT INTO devices (id, device_id, user_id, secret_hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [device.id, device.deviceId, device.userId, device.secretHash, device.createdAt, device.lastUsedAt],
        )
        return 'inserted'
      } catch (error) {
        if (readSqlState(error) === '23505') return 'device_taken'
        throw error
      }
    },

    async findDeviceByDeviceId(deviceId) {
      const [row] = await db.query('SELECT * FROM devices WHERE device_id = $1', [deviceId])
      return row ? toDevice(row) : null
    },

    async listUserDevices(userId) {
      return (await db.query('SELECT * FROM devices WHERE user_id = $1 ORDER BY created_at, id', [userId])).map(
        toDevice,
      )
    },

    async deleteUserDevice(userId, id) {
      return (
        (await db.query('DELETE FROM devices WHERE user_id = $1 AND id = $2 RETURNING id', [userId, id])).length === 1
      )
    },

    async touchDevice(id, lastUsedAt) {
      await db.query('UPDATE devices SET last_used_at = greatest(last_used_at, $2) WHERE id = $1', [id, lastUsedAt])
    },

    async setGuestCredentials(userId, credentials, roles, updatedAt) {
      try {
        return await db.transaction(async (tx) => {
          const changed = await tx.query(
            `UPDATE users SET username = $2, username_key = $3, username_skeleton = $4, password_hash = $5, updated_at = $6
             WHERE id = $1 AND ${guestKeyRange} RETURNING id`,
            [
              userId,
              credentials.username,
              credentials.usernameKey,
              credentials.usernameSkeleton,
              credentials.passwordHash,
              updatedAt,
            ],
          )
          if (changed.length !== 1) return 'not_guest' as const
          await tx.query('DELETE FROM user_roles WHERE user_id = $1', [userId])
          await tx.query('INSERT INTO user_roles (user_id, role) SELECT $1, unnest($2::text[])', [userId, roles])
          return 'set' as const
        })
      } catch (error) {
        if (readSqlState(error) === '23505') return 'username_taken'
        throw error
      }
    },

    async deleteUnusedGuests(cutoff, limit) {
      const rows = await db.query(
        `DELETE FROM users WHERE id IN (
           SELECT id FROM users u WHERE ${guestKeyRange} AND u.created_at < $1
             AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.last_used_at >= $1)
           LIMIT $2) RETURNING id`,
        [cutoff, limit],
      )
      return rows.map((row) => String(row.id))
    },
  }
}

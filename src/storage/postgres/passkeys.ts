import type {
  PasskeyRecord,
  PasskeyStore,
  WebAuthnChallengeRecord,
  WebAuthnPurpose,
} from '../../core/passkeys/store.ts'
import type { Row, SqlSession } from './database.ts'

function toPasskey(row: Row): PasskeyRecord {
  const transports = String(row.transports)
  return {
    id: String(row.id),
    userId: String(row.user_id),
    publicKey: new Uint8Array(row.public_key as Uint8Array),
    counter: Number(row.counter),
    transports: transports === '' ? [] : transports.split(' '),
    isBackupEligible: row.is_backup_eligible === true,
    name: String(row.name),
    createdAt: row.created_at as Date,
    lastUsedAt: (row.last_used_at as Date | null) ?? null,
  }
}

function toChallenge(row: Row): WebAuthnChallengeRecord {
  return {
    challengeHash: String(row.challenge_hash),
    purpose: String(row.purpose) as WebAuthnPurpose,
    userId: row.user_id === null ? null : String(row.user_id),
    boundTo: row.bound_to === null ? null : String(row.bound_to),
    expiresAt: row.expires_at as Date,
  }
}

export function createPostgresPasskeyStore(db: SqlSession): PasskeyStore {
  return {
    async insertPasskey(passkey) {
      const rows = await db.query(
        `INSERT INTO passkeys (id, user_id, public_key, counter, transports, is_backup_eligible, name, created_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [
          passkey.id,
          passkey.userId,
          Buffer.from(passkey.publicKey),
          passkey.counter,
          passkey.transports.join(' '),
          passkey.isBackupEligible,
          passkey.name,
          passkey.createdAt,
          passkey.lastUsedAt,
        ],
      )
      return rows.length === 1 ? 'inserted' : 'exists'
    },

    async findPasskey(id) {
      const [row] = await db.query('SELECT * FROM passkeys WHERE id = $1', [id])
      return row ? toPasskey(row) : null
    },

    async listUserPasskeys(userId) {
      return (await db.query('SELECT * FROM passkeys WHERE user_id = $1 ORDER BY created_at, id', [userId])).map(
        toPasskey,
      )
    },

    async recordPasskeyUse(id, counter, usedAt) {
      const rows = await db.query(
        `UPDATE passkeys SET counter = $2, last_used_at = $3
         WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0)) RETURNING id`,
        [id, counter, usedAt],
      )
      return rows.length === 1
    },

    async renamePasskey(userId, id, name) {
      return (
        (
          await db.query('UPDATE passkeys SET name = $3 WHERE user_id = $1 AND id = $2 RETURNING id', [
            userId,
            id,
            name,
          ])
        ).length === 1
      )
    },

    async deletePasskey(userId, id) {
      return (
        (await db.query('DELETE FROM passkeys WHERE user_id = $1 AND id = $2 RETURNING id', [userId, id])).length === 1
      )
    },

    async deleteUserPasskeys(userId) {
      return (await db.query('DELETE FROM passkeys WHERE user_id = $1 RETURNING id', [userId])).length
    },

    async insertWebAuthnChallenge(challenge) {
      await db.query(
        'INSERT INTO webauthn_challenges (challenge_hash, purpose, user_id, bound_to, expires_at) VALUES ($1, $2, $3, $4, $5)',
        [challenge.challengeHash, challenge.purpose, challenge.userId, challenge.boundTo, challenge.expiresAt],
      )
    },

    async consumeWebAuthnChallenge(challengeHash, now) {
      // Taken even when expired: an expired challenge is as spent as a used one.
      const [row] = await db.query('DELETE FROM webauthn_challenges WHERE challenge_hash = $1 RETURNING *', [
        challengeHash,
      ])
      if (!row) return null
      const challenge = toChallenge(row)
      return challenge.expiresAt > now ? challenge : null
    },

    async deleteExpiredWebAuthnChallenges(now) {
      return (await db.query('DELETE FROM webauthn_challenges WHERE expires_at <= $1 RETURNING challenge_hash', [now]))
        .length
    },
  }
}

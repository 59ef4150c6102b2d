import type { DatabaseSync } from 'node:sqlite'
import type {
  PasskeyRecord,
  PasskeyStore,
  WebAuthnChallengeRecord,
  WebAuthnPurpose,
} from '../../core/passkeys/store.ts'

function toPasskey(row: Record<string, unknown>): PasskeyRecord {
  const transports = String(row.transports)
  return {
    id: String(row.id),
    userId: String(row.user_id),
    publicKey: new Uint8Array(row.public_key as Uint8Array),
    counter: Number(row.counter),
    transports: transports === '' ? [] : transports.split(' '),
    isBackupEligible: Number(row.is_backup_eligible) === 1,
    name: String(row.name),
    createdAt: new Date(Number(row.created_at)),
    lastUsedAt: row.last_used_at === null ? null : new Date(Number(row.last_used_at)),
  }
}

function toChallenge(row: Record<string, unknown>): WebAuthnChallengeRecord {
  return {
    challengeHash: String(row.challenge_hash),
    purpose: String(row.purpose) as WebAuthnPurpose,
    userId: row.user_id === null ? null : String(row.user_id),
    boundTo: row.bound_to === null ? null : String(row.bound_to),
    expiresAt: new Date(Number(row.expires_at)),
  }
}

export function createSqlitePasskeyStore(db: DatabaseSync): PasskeyStore {
  const insert = db.prepare(`INSERT INTO passkeys
    (id, user_id, public_key, counter, transports, is_backup_eligible, name, created_at, last_used_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
  const find = db.prepare('SELECT * FROM passkeys WHERE id = ?')
  const listByUser = db.prepare('SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at, id')
  const recordUse = db.prepare(`UPDATE passkeys SET counter = ?, last_used_at = ?
    WHERE id = ? AND (counter < ? OR (counter = 0 AND ? = 0))`)
  const rename = db.prepare('UPDATE passkeys SET name = ? WHERE user_id = ? AND id = ?')
  const deleteOne = db.prepare('DELETE FROM passkeys WHERE user_id = ? AND id = ?')
  const deleteAll = db.prepare('DELETE FROM passkeys WHERE user_id = ?')
  const insertChallenge =
    db.prepare(`INSERT INTO webauthn_challenges (challenge_hash, purpose, user_id, bound_to, expires_at)
    VALUES (?, ?, ?, ?, ?)`)
  const consumeChallenge = db.prepare('DELETE FROM webauthn_challenges WHERE challenge_hash = ? RETURNING *')
  const deleteExpired = db.prepare('DELETE FROM webauthn_challenges WHERE expires_at <= ?')

  return {
    async insertPasskey(passkey) {
      const result = insert.run(
        passkey.id,
        passkey.userId,
        passkey.publicKey,
        passkey.counter,
        passkey.transports.join(' '),
        passkey.isBackupEligible ? 1 : 0,
        passkey.name,
        passkey.createdAt.getTime(),
        passkey.lastUsedAt === null ? null : passkey.lastUsedAt.getTime(),
      )
      return Number(result.changes) === 1 ? 'inserted' : 'exists'
    },

    async findPasskey(id) {
      const row = find.get(id)
      return row ? toPasskey(row) : null
    },

    async listUserPasskeys(userId) {
      return listByUser.all(userId).map(toPasskey)
    },

    async recordPasskeyUse(id, counter, usedAt) {
      return Number(recordUse.run(counter, usedAt.getTime(), id, counter, counter).changes) === 1
    },

    async renamePasskey(userId, id, name) {
      return Number(rename.run(name, userId, id).changes) === 1
    },

    async deletePasskey(userId, id) {
      return Number(deleteOne.run(userId, id).changes) === 1
    },

    async deleteUserPasskeys(userId) {
      return Number(deleteAll.run(userId).changes)
    },

    async insertWebAuthnChallenge(challenge) {
      insertChallenge.run(
        challenge.challengeHash,
        challenge.purpose,
        challenge.userId,
        challenge.boundTo,
        challenge.expiresAt.getTime(),
      )
    },

    async consumeWebAuthnChallenge(challengeHash, now) {
      // Taken even when expired: an expired challenge is as spent as a used one.
      const row = consumeChallenge.get(challengeHash)
      if (!row) return null
      const challenge = toChallenge(row)
      return challenge.expiresAt > now ? challenge : null
    },

    async deleteExpiredWebAuthnChallenges(now) {
      return Number(deleteExpired.run(now.getTime()).changes)
    },
  }
}

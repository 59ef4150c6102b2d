import type { MfaChallengeRecord, SecondFactorStore, TotpRecord } from '../../core/second-factor/store.ts'
import type { Row, SqlSession } from './database.ts'

function toTotp(row: Row): TotpRecord {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    secretCiphertext: String(row.secret_ciphertext),
    algorithm: row.algorithm === 'SHA256' ? 'SHA256' : row.algorithm === 'SHA512' ? 'SHA512' : 'SHA1',
    digits: Number(row.digits),
    periodSeconds: Number(row.period_seconds),
    lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
    createdAt: row.created_at as Date,
    confirmedAt: (row.confirmed_at as Date | null) ?? null,
  }
}

function toChallenge(row: Row): MfaChallengeRecord {
  return {
    tokenHash: String(row.token_hash),
    userId: String(row.user_id),
    transport: row.transport === 'cookie' ? 'cookie' : 'token',
    createdAt: row.created_at as Date,
    expiresAt: row.expires_at as Date,
    attemptsLeft: Number(row.attempts_left),
  }
}

export function createPostgresSecondFactorStore(db: SqlSession): SecondFactorStore {
  return {
    async savePendingTotp(record) {
      const rows = await db.query(
        `INSERT INTO totp_secrets
           (user_id, id, secret_ciphertext, algorithm, digits, period_seconds, last_used_step, created_at, confirmed_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, NULL)
         ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, secret_ciphertext = excluded.secret_ciphertext,
           algorithm = excluded.algorithm, digits = excluded.digits, period_seconds = excluded.period_seconds,
           last_used_step = NULL, created_at = excluded.created_at
         WHERE totp_secrets.confirmed_at IS NULL
         RETURNING user_id`,
        [
          record.userId,
          record.id,
          record.secretCiphertext,
          record.algorithm,
          record.digits,
          record.periodSeconds,
          record.createdAt,
        ],
      )
      return rows.length === 1
    },

    async findTotp(userId) {
      const [row] = await db.query('SELECT * FROM totp_secrets WHERE user_id = $1', [userId])
      return row ? toTotp(row) : null
    },

    async confirmTotp(userId, totpId, step, confirmedAt) {
      const rows = await db.query(
        `UPDATE totp_secrets SET confirmed_at = $4, last_used_step = $3
         WHERE user_id = $1 AND id = $2 AND confirmed_at IS NULL RETURNING user_id`,
        [userId, totpId, step, confirmedAt],
      )
      return rows.length === 1
    },

    async recordTotpStep(userId, totpId, step) {
      const rows = await db.query(
        `UPDATE totp_secrets SET last_used_step = $3
         WHERE user_id = $1 AND id = $2 AND confirmed_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < $3)
         RETURNING user_id`,
        [userId, totpId, step],
      )
      return rows.length === 1
    },

    async deleteTotp(userId) {
      return (await db.query('DELETE FROM totp_secrets WHERE user_id = $1 RETURNING user_id', [userId])).length === 1
    },

    async replaceRecoveryCodes(userId, codeHashes, createdAt) {
      await db.transaction(async (tx) => {
        await tx.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId])
        await tx.query(
          'INSERT INTO recovery_codes (user_id, code_hash, created_at, used_at) SELECT $1, unnest($2::text[]), $3, NULL',
          [userId, codeHashes, createdAt],
        )
      })
    },

    async consumeRecoveryCode(userId, codeHash, usedAt) {
      const rows = await db.query(
        'UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING user_id',
        [userId, codeHash, usedAt],
      )
      return rows.length === 1
    },

    async listRecoveryCodeHashes(userId) {
      const rows = await db.query(
        'SELECT code_hash FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL ORDER BY code_hash COLLATE "C"',
        [userId],
      )
      return rows.map((row) => String(row.code_hash))
    },

    async countRecoveryCodes(userId) {
      const [row] = await db.query(
        'SELECT count(*)::int AS unused FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL',
        [userId],
      )
      return Number(row?.unused ?? 0)
    },

    async deleteRecoveryCodes(userId) {
      return (await db.query('DELETE FROM recovery_codes WHERE user_id = $1 RETURNING code_hash', [userId])).length
    },

    async insertMfaChallenge(challenge) {
      await db.query(
        `INSERT INTO mfa_challenges (token_hash, user_id, transport, created_at, expires_at, attempts_left)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          challenge.tokenHash,
          challenge.userId,
          challenge.transport,
          challenge.createdAt,
          challenge.expiresAt,
          challenge.attemptsLeft,
        ],
      )
    },

    async findMfaChallenge(tokenHash, now) {
      const [row] = await db.query(
        'SELECT * FROM mfa_challenges WHERE token_hash = $1 AND expires_at > $2 AND attempts_left > 0',
        [tokenHash, now],
      )
      return row ? toChallenge(row) : null
    },

    async takeMfaChallengeAttempt(tokenHash, now) {
      const [row] = await db.query(
        `UPDATE mfa_challenges SET attempts_left = attempts_left - 1
         WHERE token_hash = $1 AND expires_at > $2 AND attempts_left > 0 RETURNING *`,
        [tokenHash, now],
      )
      return row ? { ...toChallenge(row), attemptsLeft: Number(row.attempts_left) + 1 } : null
    },

    async consumeMfaChallenge(tokenHash, now) {
      const [row] = await db.query('DELETE FROM mfa_challenges WHERE token_hash = $1 AND expires_at > $2 RETURNING *', [
        tokenHash,
        now,
      ])
      return row ? toChallenge(row) : null
    },

    async deleteExpiredMfaChallenges(now) {
      return (await db.query('DELETE FROM mfa_challenges WHERE expires_at <= $1 RETURNING token_hash', [now])).length
    },
  }
}

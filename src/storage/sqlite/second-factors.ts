import type { DatabaseSync } from 'node:sqlite'
import type { MfaChallengeRecord, SecondFactorStore, TotpRecord } from '../../core/second-factor/store.ts'
import { runAtomically } from './transaction.ts'

function toTotp(row: Record<string, unknown>): TotpRecord {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    secretCiphertext: String(row.secret_ciphertext),
    algorithm: row.algorithm === 'SHA256' ? 'SHA256' : row.algorithm === 'SHA512' ? 'SHA512' : 'SHA1',
    digits: Number(row.digits),
    periodSeconds: Number(row.period_seconds),
    lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
    createdAt: new Date(Number(row.created_at)),
    confirmedAt: row.confirmed_at === null ? null : new Date(Number(row.confirmed_at)),
  }
}

function toChallenge(row: Record<string, unknown>): MfaChallengeRecord {
  return {
    tokenHash: String(row.token_hash),
    userId: String(row.user_id),
    transport: row.transport === 'cookie' ? 'cookie' : 'token',
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
    attemptsLeft: Number(row.attempts_left),
  }
}

export function createSqliteSecondFactorStore(db: DatabaseSync): SecondFactorStore {
  const savePending = db.prepare(`INSERT INTO totp_secrets
    (user_id, id, secret_ciphertext, algorithm, digits, period_seconds, last_used_step, created_at, confirmed_at)
    VALUES (?, ?, ?, ?, ?, ?, NULL, ?, NULL)
    ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, secret_ciphertext = excluded.secret_ciphertext,
      algorithm = excluded.algorithm, digits = excluded.digits, period_seconds = excluded.period_seconds,
      last_used_step = NULL, created_at = excluded.created_at
    WHERE totp_secrets.confirmed_at IS NULL`)
  const findTotp = db.prepare('SELECT * FROM totp_secrets WHERE user_id = ?')
  const confirm = db.prepare(`UPDATE totp_secrets SET confirmed_at = ?, last_used_step = ?
    WHERE user_id = ? AND id = ? AND confirmed_at IS NULL`)
  const recordStep = db.prepare(`UPDATE totp_secrets SET last_used_step = ?
    WHERE user_id = ? AND id = ? AND confirmed_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < ?)`)
  const deleteTotp = db.prepare('DELETE FROM totp_secrets WHERE user_id = ?')
  const deleteCodes = db.prepare('DELETE FROM recovery_codes WHERE user_id = ?')
  const insertCode = db.prepare(
    'INSERT INTO recovery_codes (user_id, code_hash, created_at, used_at) VALUES (?, ?, ?, NULL)',
  )
  const consumeCode = db.prepare(
    'UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL',
  )
  const listCodes = db.prepare(
    'SELECT code_hash FROM recovery_codes WHERE user_id = ? AND used_at IS NULL ORDER BY code_hash',
  )
  const countCodes = db.prepare('SELECT count(*) AS unused FROM recovery_codes WHERE user_id = ? AND used_at IS NULL')
  const insertChallenge = db.prepare(`INSERT INTO mfa_challenges
    (token_hash, user_id, transport, created_at, expires_at, attempts_left) VALUES (?, ?, ?, ?, ?, ?)`)
  const findChallenge = db.prepare(
    'SELECT * FROM mfa_challenges WHERE token_hash = ? AND expires_at > ? AND attempts_left > 0',
  )
  const takeAttempt = db.prepare(`UPDATE mfa_challenges SET attempts_left = attempts_left - 1
    WHERE token_hash = ? AND expires_at > ? AND attempts_left > 0 RETURNING *`)
  const consumeChallenge = db.prepare('DELETE FROM mfa_challenges WHERE token_hash = ? AND expires_at > ? RETURNING *')
  const deleteExpired = db.prepare('DELETE FROM mfa_challenges WHERE expires_at <= ?')

  return {
    async savePendingTotp(record) {
      const result = savePending.run(
        record.userId,
        record.id,
        record.secretCiphertext,
        record.algorithm,
        record.digits,
        record.periodSeconds,
        record.createdAt.getTime(),
      )
      return Number(result.changes) === 1
    },

    async findTotp(userId) {
      const row = findTotp.get(userId)
      return row ? toTotp(row) : null
    },

    async confirmTotp(userId, totpId, step, confirmedAt) {
      return Number(confirm.run(confirmedAt.getTime(), step, userId, totpId).changes) === 1
    },

    async recordTotpStep(userId, totpId, step) {
      return Number(recordStep.run(step, userId, totpId, step).changes) === 1
    },

    async deleteTotp(userId) {
      return Number(deleteTotp.run(userId).changes) === 1
    },

    async replaceRecoveryCodes(userId, codeHashes, createdAt) {
      runAtomically(db, () => {
        deleteCodes.run(userId)
        for (const codeHash of codeHashes) insertCode.run(userId, codeHash, createdAt.getTime())
      })
    },

    async consumeRecoveryCode(userId, codeHash, usedAt) {
      return Number(consumeCode.run(usedAt.getTime(), userId, codeHash).changes) === 1
    },

    async listRecoveryCodeHashes(userId) {
      return listCodes.all(userId).map((row) => String(row.code_hash))
    },

    async countRecoveryCodes(userId) {
      return Number(countCodes.get(userId)?.unused ?? 0)
    },

    async deleteRecoveryCodes(userId) {
      return Number(deleteCodes.run(userId).changes)
    },

    async insertMfaChallenge(challenge) {
      insertChallenge.run(
        challenge.tokenHash,
        challenge.userId,
        challenge.transport,
        challenge.createdAt.getTime(),
        challenge.expiresAt.getTime(),
        challenge.attemptsLeft,
      )
    },

    async findMfaChallenge(tokenHash, now) {
      const row = findChallenge.get(tokenHash, now.getTime())
      return row ? toChallenge(row) : null
    },

    async takeMfaChallengeAttempt(tokenHash, now) {
      const row = takeAttempt.get(tokenHash, now.getTime())
      return row ? { ...toChallenge(row), attemptsLeft: Number(row.attempts_left) + 1 } : null
    },

    async consumeMfaChallenge(tokenHash, now) {
      const row = consumeChallenge.get(tokenHash, now.getTime())
      return row ? toChallenge(row) : null
    },

    async deleteExpiredMfaChallenges(now) {
      return Number(deleteExpired.run(now.getTime()).changes)
    },
  }
}

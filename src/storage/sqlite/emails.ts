import type { DatabaseSync } from 'node:sqlite'
import type { EmailRecord, EmailStore, EmailTokenRecord } from '../../core/email/store.ts'
import { runAtomically } from './transaction.ts'

function toEmail(row: Record<string, unknown>): EmailRecord {
  return {
    userId: String(row.user_id),
    address: String(row.address),
    addressKey: String(row.address_key),
    verifiedAt: row.verified_at === null ? null : new Date(Number(row.verified_at)),
    language: row.language === 'ko' ? 'ko' : 'en',
    updatedAt: new Date(Number(row.updated_at)),
  }
}

function toToken(row: Record<string, unknown>): EmailTokenRecord {
  return {
    tokenHash: String(row.token_hash),
    userId: String(row.user_id),
    purpose: row.purpose === 'password_reset' ? 'password_reset' : 'email_verification',
    binding: String(row.binding),
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
  }
}

function isUniqueViolation(error: unknown): boolean {
  // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY
  return error instanceof Error && 'errcode' in error && (error.errcode === 2067 || error.errcode === 1555)
}

/** LIKE with its wildcards escaped, so an operator's `_` or `%` matches itself. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`)
}

export function createSqliteEmailStore(db: DatabaseSync): EmailStore {
  const userExists = db.prepare('SELECT 1 FROM users WHERE id = ?')
  const findByUser = db.prepare('SELECT * FROM user_emails WHERE user_id = ?')
  const findByKey = db.prepare('SELECT * FROM user_emails WHERE address_key = ?')
  const findByPrefix = db.prepare(`SELECT * FROM user_emails WHERE address_key LIKE ? ESCAPE '\\'
    ORDER BY address_key LIMIT ?`)
  const upsert = db.prepare(`INSERT INTO user_emails (user_id, address, address_key, verified_at, language, updated_at)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (user_id) DO UPDATE SET address = excluded.address, address_key = excluded.address_key,
      verified_at = excluded.verified_at, language = excluded.language, updated_at = excluded.updated_at`)
  const setLanguage = db.prepare('UPDATE user_emails SET address = ?, language = ?, updated_at = ? WHERE user_id = ?')
  const markVerified = db.prepare('UPDATE user_emails SET verified_at = ? WHERE user_id = ? AND address_key = ?')
  const deleteUserTokens = db.prepare('DELETE FROM email_tokens WHERE user_id = ? AND purpose = ?')
  const insertToken =
    db.prepare(`INSERT INTO email_tokens (token_hash, user_id, purpose, binding, created_at, expires_at)
    VALUES (?, ?, ?, ?, ?, ?)`)
  const findToken = db.prepare('SELECT * FROM email_tokens WHERE token_hash = ? AND purpose = ? AND expires_at > ?')
  const consumeToken = db.prepare(
    'DELETE FROM email_tokens WHERE token_hash = ? AND purpose = ? AND expires_at > ? RETURNING *',
  )
  const deleteExpired = db.prepare('DELETE FROM email_tokens WHERE expires_at <= ?')

  return {
    async setEmail(record) {
      return runAtomically(db, () => {
        if (!userExists.get(record.userId)) return 'no_user'
        const current = findByUser.get(record.userId)
        if (current && current.address_key === record.addressKey) {
          // The same mailbox: its proof stands; how it is written and the language may change.
          setLanguage.run(record.address, record.language, record.updatedAt.getTime(), record.userId)
          return 'unchanged'
        }
        try {
          upsert.run(
            record.userId,
            record.address,
            record.addressKey,
            record.verifiedAt?.getTime() ?? null,
            record.language,
            record.updatedAt.getTime(),
          )
        } catch (error) {
          if (isUniqueViolation(error)) return 'email_taken'
          throw error
        }
        deleteUserTokens.run(record.userId, 'email_verification')
        return 'set'
      })
    },

    async findEmail(userId) {
      const row = findByUser.get(userId)
      return row ? toEmail(row) : null
    },

    async findEmailByKey(addressKey) {
      const row = findByKey.get(addressKey)
      return row ? toEmail(row) : null
    },

    async findEmailsByKeyPrefix(prefix, limit) {
      return findByPrefix.all(`${escapeLike(prefix)}%`, limit).map(toEmail)
    },

    async markEmailVerified(userId, addressKey, at) {
      return Number(markVerified.run(at.getTime(), userId, addressKey).changes) === 1
    },

    async saveEmailToken(record) {
      runAtomically(db, () => {
        deleteUserTokens.run(record.userId, record.purpose)
        insertToken.run(
          record.tokenHash,
          record.userId,
          record.purpose,
          record.binding,
          record.createdAt.getTime(),
          record.expiresAt.getTime(),
        )
      })
    },

    async findEmailToken(tokenHash, purpose, now) {
      const row = findToken.get(tokenHash, purpose, now.getTime())
      return row ? toToken(row) : null
    },

    async consumeEmailToken(tokenHash, purpose, now) {
      const row = consumeToken.get(tokenHash, purpose, now.getTime())
      return row ? toToken(row) : null
    },

    async deleteEmailTokens(userId, purpose) {
      return Number(deleteUserTokens.run(userId, purpose).changes)
    },

    async deleteExpiredEmailTokens(now) {
      return Number(deleteExpired.run(now.getTime()).changes)
    },
  }
}

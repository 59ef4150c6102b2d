import type { EmailRecord, EmailStore, EmailTokenRecord } from '../../core/email/store.ts'
import { readSqlState, type Row, type SqlSession } from './database.ts'

function toEmail(row: Row): EmailRecord {
  return {
    userId: String(row.user_id),
    address: String(row.address),
    addressKey: String(row.address_key),
    verifiedAt: (row.verified_at as Date | null) ?? null,
    language: row.language === 'ko' ? 'ko' : 'en',
    updatedAt: row.updated_at as Date,
  }
}

function toToken(row: Row): EmailTokenRecord {
  return {
    tokenHash: String(row.token_hash),
    userId: String(row.user_id),
    purpose: row.purpose === 'password_reset' ? 'password_reset' : 'email_verification',
    binding: String(row.binding),
    createdAt: row.created_at as Date,
    expiresAt: row.expires_at as Date,
  }
}

/** LIKE with its wildcards escaped, so an operator's `_` or `%` matches itself. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`)
}

export function createPostgresEmailStore(db: SqlSession): EmailStore {
  return {
    async setEmail(record) {
      try {
        return await db.transaction(async (tx) => {
          // Locks the user row: two changes of one account's address run one after the other.
          const users = await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [record.userId])
          if (users.length === 0) return 'no_user' as const
          const [current] = await tx.query('SELECT address_key FROM user_emails WHERE user_id = $1', [record.userId])
          if (current && current.address_key === record.addressKey) {
            await tx.query('UPDATE user_emails SET address = $2, language = $3, updated_at = $4 WHERE user_id = $1', [
              record.userId,
              record.address,
              record.language,
              record.updatedAt,
            ])
            return 'unchanged' as const
          }
          await tx.query(
            `INSERT INTO user_emails (user_id, address, address_key, verified_at, language, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id) DO UPDATE SET address = excluded.address, address_key = excluded.address_key,
               verified_at = excluded.verified_at, language = excluded.language, updated_at = excluded.updated_at`,
            [record.userId, record.address, record.addressKey, record.verifiedAt, record.language, record.updatedAt],
          )
          await tx.query("DELETE FROM email_tokens WHERE user_id = $1 AND purpose = 'email_verification'", [
            record.userId,
          ])
          return 'set' as const
        })
      } catch (error) {
        if (readSqlState(error) === '23505') return 'email_taken'
        throw error
      }
    },

    async findEmail(userId) {
      const [row] = await db.query('SELECT * FROM user_emails WHERE user_id = $1', [userId])
      return row ? toEmail(row) : null
    },

    async findEmailByKey(addressKey) {
      const [row] = await db.query('SELECT * FROM user_emails WHERE address_key = $1', [addressKey])
      return row ? toEmail(row) : null
    },

    async findEmailsByKeyPrefix(prefix, limit) {
      const rows = await db.query(
        `SELECT * FROM user_emails WHERE address_key LIKE $1 ESCAPE '\\' ORDER BY address_key COLLATE "C" LIMIT $2`,
        [`${escapeLike(prefix)}%`, limit],
      )
      return rows.map(toEmail)
    },

    async markEmailVerified(userId, addressKey, at) {
      const rows = await db.query(
        'UPDATE user_emails SET verified_at = $3 WHERE user_id = $1 AND address_key = $2 RETURNING user_id',
        [userId, addressKey, at],
      )
      return rows.length === 1
    },

    async saveEmailToken(record) {
      await db.transaction(async (tx) => {
        await tx.query('DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2', [record.userId, record.purpose])
        await tx.query(
          `INSERT INTO email_tokens (token_hash, user_id, purpose, binding, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [record.tokenHash, record.userId, record.purpose, record.binding, record.createdAt, record.expiresAt],
        )
      })
    },

    async findEmailToken(tokenHash, purpose, now) {
      const [row] = await db.query(
        'SELECT * FROM email_tokens WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3',
        [tokenHash, purpose, now],
      )
      return row ? toToken(row) : null
    },

    async consumeEmailToken(tokenHash, purpose, now) {
      const [row] = await db.query(
        'DELETE FROM email_tokens WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3 RETURNING *',
        [tokenHash, purpose, now],
      )
      return row ? toToken(row) : null
    },

    async deleteEmailTokens(userId, purpose) {
      const rows = await db.query('DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2 RETURNING token_hash', [
        userId,
        purpose,
      ])
      return rows.length
    },

    async deleteExpiredEmailTokens(now) {
      const rows = await db.query('DELETE FROM email_tokens WHERE expires_at <= $1 RETURNING token_hash', [now])
      return rows.length
    },
  }
}

import { readSigningAlgorithm, type SigningKeyRecord, type SigningKeyStore } from '../../core/tokens/store.ts'
import type { SqlSession, Queryable, Row } from './database.ts'

function toKey(row: Row): SigningKeyRecord {
  return {
    kid: String(row.kid),
    algorithm: readSigningAlgorithm(row.algorithm),
    publicJwk: String(row.public_jwk),
    privateJwkCiphertext: String(row.private_jwk_ciphertext),
    createdAt: row.created_at as Date,
    activatesAt: row.activates_at as Date,
    retiresAt: row.retires_at instanceof Date ? row.retires_at : null,
  }
}

async function insertKey(db: Queryable, key: SigningKeyRecord): Promise<void> {
  await db.query(
    `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk_ciphertext, created_at, activates_at, retires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [key.kid, key.algorithm, key.publicJwk, key.privateJwkCiphertext, key.createdAt, key.activatesAt, key.retiresAt],
  )
}

export function createPostgresSigningKeyStore(db: SqlSession): SigningKeyStore {
  return {
    insertSigningKey: (key) => insertKey(db, key),
    async rotateSigningKey(key, predecessorsRetireAt) {
      await db.transaction(async (tx) => {
        await tx.query('UPDATE signing_keys SET retires_at = $1 WHERE retires_at IS NULL', [predecessorsRetireAt])
        await insertKey(tx, key)
      })
    },
    async replaceSigningKeys(key, retireAt) {
      await db.transaction(async (tx) => {
        await tx.query('UPDATE signing_keys SET retires_at = $1 WHERE retires_at IS NULL OR retires_at > $1', [
          retireAt,
        ])
        await insertKey(tx, key)
      })
    },
    async deleteRetiredSigningKeys(now) {
      return (await db.query('DELETE FROM signing_keys WHERE retires_at <= $1 RETURNING kid', [now])).length
    },
    async listUsableSigningKeys(now) {
      const rows = await db.query(
        'SELECT * FROM signing_keys WHERE retires_at IS NULL OR retires_at > $1 ORDER BY activates_at, created_at',
        [now],
      )
      return rows.map(toKey)
    },
  }
}

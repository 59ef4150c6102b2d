import type { DatabaseSync } from 'node:sqlite'
import { readSigningAlgorithm, type SigningKeyRecord, type SigningKeyStore } from '../../core/tokens/store.ts'
import { runAtomically } from './transaction.ts'

function toKey(row: Record<string, unknown>): SigningKeyRecord {
  return {
    kid: String(row.kid),
    algorithm: readSigningAlgorithm(row.algorithm),
    publicJwk: String(row.public_jwk),
    privateJwkCiphertext: String(row.private_jwk_ciphertext),
    createdAt: new Date(Number(row.created_at)),
    activatesAt: new Date(Number(row.activates_at)),
    retiresAt: row.retires_at === null ? null : new Date(Number(row.retires_at)),
  }
}

export function createSqliteSigningKeyStore(db: DatabaseSync): SigningKeyStore {
  const insert = db.prepare(`INSERT INTO signing_keys
    (kid, algorithm, public_jwk, private_jwk_ciphertext, created_at, activates_at, retires_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const listUsable = db.prepare(
    'SELECT * FROM signing_keys WHERE retires_at IS NULL OR retires_at > ? ORDER BY activates_at, created_at',
  )
  const retireInService = db.prepare('UPDATE signing_keys SET retires_at = ? WHERE retires_at IS NULL')
  const retireAll = db.prepare('UPDATE signing_keys SET retires_at = ?1 WHERE retires_at IS NULL OR retires_at > ?1')
  const deleteRetired = db.prepare('DELETE FROM signing_keys WHERE retires_at <= ?')
  const insertKey = (key: SigningKeyRecord) =>
    insert.run(
      key.kid,
      key.algorithm,
      key.publicJwk,
      key.privateJwkCiphertext,
      key.createdAt.getTime(),
      key.activatesAt.getTime(),
      key.retiresAt?.getTime() ?? null,
    )
  return {
    async insertSigningKey(key) {
      insertKey(key)
    },
    async rotateSigningKey(key, predecessorsRetireAt) {
      runAtomically(db, () => {
        retireInService.run(predecessorsRetireAt.getTime())
        insertKey(key)
      })
    },
    async replaceSigningKeys(key, retireAt) {
      runAtomically(db, () => {
        retireAll.run(retireAt.getTime())
        insertKey(key)
      })
    },
    async deleteRetiredSigningKeys(now) {
      return Number(deleteRetired.run(now.getTime()).changes)
    },
    async listUsableSigningKeys(now) {
      return listUsable.all(now.getTime()).map(toKey)
    },
  }
}

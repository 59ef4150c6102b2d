/**
 * Migration 009 rebuilds `signing_keys` so that it takes RS256 keys. A database written by the
 * previous schema keeps every key, field for field, and still refuses an unknown algorithm.
 */
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import { buildSigningKeyRecord, contractEpoch, secondsAfterEpoch } from '../../src/storage/contract/records.ts'
import { openSqliteStores, sqliteFileName } from '../../src/storage/sqlite/open.ts'

const migrationsDir = new URL('../../src/storage/sqlite/migrations/', import.meta.url)

/** A database at the schema just before 009, holding an EdDSA and a retiring ES256 key. */
function createDatabaseBeforeRsaKeys(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-migration-'))
  // Private, as Tessera creates it (a database open to others is refused at open).
  closeSync(openSync(join(dataDir, sqliteFileName), 'a', 0o600))
  const db = new DatabaseSync(join(dataDir, sqliteFileName))
  db.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
  )
  for (const file of readdirSync(migrationsDir)
    .filter((name) => /^\d{3}_/.test(name))
    .sort()) {
    const version = Number(file.slice(0, 3))
    if (version >= 9) continue
    db.exec(readFileSync(new URL(file, migrationsDir), 'utf8'))
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(version, file.slice(4, -4))
  }
  db.close()
  return dataDir
}

describe('SQLite migration 009 (RSA signing keys)', () => {
  it('keeps every key and accepts RS256 afterwards', async (t) => {
    const dataDir = createDatabaseBeforeRsaKeys()
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const edKey = buildSigningKeyRecord({ algorithm: 'EdDSA', retiresAt: null })
    const ecKey = buildSigningKeyRecord({ algorithm: 'ES256', retiresAt: secondsAfterEpoch(3600) })
    const before = new DatabaseSync(join(dataDir, sqliteFileName))
    const insert = before.prepare('INSERT INTO signing_keys VALUES (?, ?, ?, ?, ?, ?, ?)')
    for (const key of [edKey, ecKey]) {
      insert.run(
        key.kid,
        key.algorithm,
        key.publicJwk,
        key.privateJwkCiphertext,
        key.createdAt.getTime(),
        key.activatesAt.getTime(),
        key.retiresAt?.getTime() ?? null,
      )
    }
    // The old schema is what the migration exists for: it refuses RS256.
    const rsKey = buildSigningKeyRecord({ algorithm: 'RS256' })
    assert.throws(() => insert.run(rsKey.kid, 'RS256', '{}', 'v1.x', 0, 0, null), /CHECK constraint/)
    before.close()

    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    assert.deepEqual(await stores.signingKeys.listUsableSigningKeys(secondsAfterEpoch(1)), [edKey, ecKey])
    await stores.signingKeys.insertSigningKey(rsKey)
    assert.deepEqual(await stores.signingKeys.listUsableSigningKeys(secondsAfterEpoch(1)), [edKey, ecKey, rsKey])
    await assert.rejects(
      stores.signingKeys.insertSigningKey(buildSigningKeyRecord({ algorithm: 'HS256' as 'RS256' })),
      /CHECK constraint/,
    )
  })
})

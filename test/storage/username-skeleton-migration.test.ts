/**
 * Migration 007 (SQLite) / 004 (PostgreSQL) adds the confusable skeleton of usernames with a
 * unique index; accounts made before it get theirs when the stores open. Two old accounts whose
 * names look alike are both kept: the older holds the skeleton, the other is reported.
 * regression: #11 (item 7)
 */
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import pg from 'pg'
import { fillMissingUsernameSkeletons } from '../../src/core/accounts/skeleton-backfill.ts'
import { computeUsernameSkeleton } from '../../src/core/accounts/username-skeleton.ts'
import type { AccountStore } from '../../src/core/accounts/store.ts'
import { buildUserRecord, contractEpoch } from '../../src/storage/contract/records.ts'
import { openSqliteStores, sqliteFileName } from '../../src/storage/sqlite/open.ts'
import { skipUnlessPostgres, testPostgresUrl } from '../helpers/backends.ts'
import { listShippedMigrations } from '../helpers/migrations.ts'
import { createTestPostgresSettings, dropTestSchema } from '../helpers/postgres.ts'
import { openPostgresStores } from '../../src/storage/postgres/open.ts'

const legacyUsers = [
  // [id, username, key, created at (ms after the epoch)]
  ['user-1', 'rtadmin', 'rtadmin', 0],
  ['user-2', 'rt\u0430dmin', 'rt\u0430dmin', 1000],
  ['user-3', 'Alice', 'alice', 2000],
  ['user-4', 'rnodern', 'rnodern', 3000],
  ['user-5', 'modern', 'modern', 4000],
] as const

/** The migrations shipped before the one that adds skeletons: a database as the release before it left it. */
function migrationsBeforeSkeletons(backend: 'sqlite' | 'postgres') {
  const shipped = listShippedMigrations(backend)
  const skeletons = shipped.find((migration) => migration.name === 'username_skeletons')
  if (!skeletons) throw new Error(`no ${backend} username_skeletons migration`)
  return shipped.filter((migration) => migration.version < skeletons.version)
}

async function checkBackfill(accounts: AccountStore): Promise<void> {
  const first = await fillMissingUsernameSkeletons(accounts)
  assert.equal(first.filled, 3)
  assert.deepEqual(first.collisions.map((user) => user.username).sort(), ['modern', 'rt\u0430dmin'])
  assert.equal((await accounts.findUserById('user-1'))?.usernameSkeleton, computeUsernameSkeleton('rtadmin'))
  assert.equal((await accounts.findUserById('user-2'))?.usernameSkeleton, null)
  assert.equal((await accounts.findUserById('user-3'))?.usernameSkeleton, 'alice')
  assert.equal((await accounts.findUserById('user-4'))?.usernameSkeleton, computeUsernameSkeleton('modern'))
  // Both kept, both still found by their own names.
  assert.equal((await accounts.findUserByUsernameKey('rt\u0430dmin'))?.id, 'user-2')
  // A new look-alike of either collides with the skeleton the older one holds.
  assert.equal(
    await accounts.insertUser(
      buildUserRecord({ usernameKey: 'rtadm\u0456n', usernameSkeleton: computeUsernameSkeleton('rtadm\u0456n') }),
    ),
    'username_taken',
  )
  const again = await fillMissingUsernameSkeletons(accounts)
  assert.equal(again.filled, 0)
  assert.equal(again.collisions.length, 2, 'reported at every start')
}

describe('username skeleton migration', () => {
  it('SQLite: a database of the version before skeletons gains them; look-alike accounts are both kept', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-skeleton-migration-'))
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    // Private, as Tessera creates it (a database open to others is refused at open).
    closeSync(openSync(join(dataDir, sqliteFileName), 'a', 0o600))
    const db = new DatabaseSync(join(dataDir, sqliteFileName))
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
    )
    for (const { version, name, sql } of migrationsBeforeSkeletons('sqlite')) {
      db.exec(sql)
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(version, name)
    }
    const insert =
      db.prepare(`INSERT INTO users (id, username, username_key, password_hash, disabled_at, created_at, updated_at)
      VALUES (?, ?, ?, '$argon2id$stand-in', NULL, ?, ?)`)
    for (const [id, username, key, at] of legacyUsers) insert.run(id, username, key, at, at)
    db.close()
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    await checkBackfill(stores.accounts)
  })

  it('PostgreSQL: a schema of the version before skeletons gains them; look-alike accounts are both kept', async (t) => {
    if (await skipUnlessPostgres()) return t.skip('PostgreSQL is not available')
    const settings = createTestPostgresSettings()
    t.after(() => dropTestSchema(settings.schema))
    const client = new pg.Client({ connectionString: testPostgresUrl })
    await client.connect()
    try {
      await client.query(`CREATE SCHEMA "${settings.schema}"`)
      await client.query(`SET search_path TO "${settings.schema}"`)
      await client.query(
        'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)',
      )
      for (const { version, name, sql } of migrationsBeforeSkeletons('postgres')) {
        await client.query(sql)
        await client.query('INSERT INTO schema_migrations VALUES ($1, $2, now())', [version, name])
      }
      for (const [id, username, key, at] of legacyUsers) {
        await client.query(
          `INSERT INTO users (id, username, username_key, password_hash, created_at, updated_at) VALUES ($1, $2, $3, '$argon2id$stand-in', $4, $4)`,
          [id, username, key, new Date(contractEpoch.getTime() + at)],
        )
      }
    } finally {
      await client.end()
    }
    const stores = await openPostgresStores(settings, { timeoutMs: 5000, now: contractEpoch })
    t.after(() => stores.close())
    await checkBackfill(stores.accounts)
  })
})

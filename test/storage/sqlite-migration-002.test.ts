/**
 * Migration 002 moves refresh tokens from two session columns to families. A database written
 * by the previous schema keeps its sessions, and its tokens keep their meaning: the current one
 * still rotates, the previous one is reuse.
 */
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import { contractEpoch, secondsAfterEpoch } from '../../src/storage/contract/records.ts'
import { openSqliteStores, sqliteFileName } from '../../src/storage/sqlite/open.ts'

const initSql = readFileSync(new URL('../../src/storage/sqlite/migrations/001_init.sql', import.meta.url), 'utf8')

function createVersionOneDatabase(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-migration-'))
  // Private, as Tessera creates it (a database open to others is refused at open).
  closeSync(openSync(join(dataDir, sqliteFileName), 'a', 0o600))
  const db = new DatabaseSync(join(dataDir, sqliteFileName))
  db.exec(initSql)
  db.exec(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
  )
  db.prepare('INSERT INTO schema_migrations VALUES (1, ?, 0)').run('init')
  db.prepare(
    `INSERT INTO users (id, username, username_key, password_hash, disabled_at, created_at, updated_at)
    VALUES ('user-1', 'alice', 'alice', '$argon2id$stand-in', NULL, 0, 0)`,
  ).run()
  const insertSession = db.prepare(`INSERT INTO sessions (id, token_hash, user_id, transport, refresh_token_hash,
    previous_refresh_token_hash, created_at, last_seen_at, absolute_expires_at, ip, user_agent)
    VALUES (?, ?, 'user-1', ?, ?, ?, ?, ?, ?, '192.0.2.1', 'old-client')`)
  const epochMs = contractEpoch.getTime()
  insertSession.run(
    'rotated-session',
    null,
    'token',
    'current-hash',
    'previous-hash',
    epochMs,
    epochMs,
    epochMs + 86_400_000,
  )
  insertSession.run('fresh-session', null, 'token', 'fresh-hash', null, epochMs, epochMs, epochMs + 86_400_000)
  insertSession.run('cookie-session', 'cookie-hash', 'cookie', null, null, epochMs, epochMs, epochMs + 86_400_000)
  db.close()
  return dataDir
}

describe('SQLite migration 002 (token lifecycle)', () => {
  it('keeps every session and turns the refresh columns into families', async (t) => {
    const dataDir = createVersionOneDatabase()
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    const session = await stores.sessions.findSessionById('rotated-session')
    assert.deepEqual(session, {
      id: 'rotated-session',
      tokenHash: null,
      userId: 'user-1',
      userEpoch: 0,
      transport: 'token',
      createdAt: contractEpoch,
      lastSeenAt: contractEpoch,
      absoluteExpiresAt: secondsAfterEpoch(86_400),
      ip: '192.0.2.1',
      userAgent: 'old-client',
      // Sessions older than the second factor were all opened with a password, at creation.
      authenticatedAt: contractEpoch,
      amr: ['pwd'],
    })
    assert.equal((await stores.sessions.findSessionByTokenHash('cookie-hash'))?.id, 'cookie-session')
    assert.equal((await stores.refreshTokens.findRefreshToken('current-hash'))?.rotatedAt, null)
    assert.equal((await stores.refreshTokens.findRefreshToken('fresh-hash'))?.sessionId, 'fresh-session')
    assert.equal((await stores.refreshTokens.findRefreshToken('previous-hash'))?.successorHash, 'current-hash')
    assert.deepEqual(await stores.sessions.listUserSessions('user-1').then((list) => list.length), 3)
  })

  it('treats a migrated previous token as reuse, even at once, and a migrated current one as current', async (t) => {
    const dataDir = createVersionOneDatabase()
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    const rotateAt = (presentedHash: string, successorHash: string) =>
      stores.refreshTokens.rotateRefreshToken({
        presentedHash,
        successorHash,
        now: secondsAfterEpoch(1),
        graceStartsAt: secondsAfterEpoch(-29),
      })
    assert.equal((await rotateAt('fresh-hash', 'fresh-next')).outcome, 'rotated')
    assert.equal((await rotateAt('previous-hash', 'current-hash')).outcome, 'reused')
    assert.equal(await stores.sessions.findSessionById('rotated-session'), null)
    assert.notEqual(await stores.sessions.findSessionById('fresh-session'), null)
  })

  it("keeps the session table's uniqueness and cascades after the rebuild", async (t) => {
    const dataDir = createVersionOneDatabase()
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const stores = openSqliteStores(dataDir, contractEpoch)
    const base = (await stores.sessions.findSessionById('cookie-session'))!
    await assert.rejects(stores.sessions.insertSession({ ...base, id: 'another-id' }))
    await stores.close()
    const db = new DatabaseSync(join(dataDir, sqliteFileName))
    try {
      db.exec('PRAGMA foreign_keys = ON')
      db.prepare("DELETE FROM users WHERE id = 'user-1'").run()
      assert.equal(db.prepare('SELECT count(*) AS n FROM sessions').get()?.n, 0)
      assert.equal(db.prepare('SELECT count(*) AS n FROM refresh_tokens').get()?.n, 0)
      assert.deepEqual(db.prepare('PRAGMA foreign_key_check').all(), [])
    } finally {
      db.close()
    }
  })
})

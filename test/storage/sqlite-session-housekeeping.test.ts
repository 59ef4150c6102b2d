/**
 * The SQLite session housekeeping at scale: node:sqlite runs every statement on the event loop,
 * so the minute sweep and the active-session gauge must never read every session (at a million
 * sessions that held every request for 100–280 ms). They find expired sessions through indexes
 * and subtract them from a kept tally, and the sweep deletes in small batches with the event loop
 * free between them. `bench/sqlite-stalls.ts` measures the stalls.
 *
 * regression: #11 (item 14)
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, describe, it } from 'node:test'
import {
  buildSessionRecord,
  buildUserRecord,
  contractEpoch,
  insertTestUser,
  secondsAfterEpoch,
} from '../../src/storage/contract/records.ts'
import { readMigrationFiles } from '../../src/storage/migration-files.ts'
import { migrateSqlite } from '../../src/storage/sqlite/migrate.ts'
import { openSqliteStores, sqliteFileName } from '../../src/storage/sqlite/open.ts'

const root = mkdtempSync(join(tmpdir(), 'tessera-sqlite-housekeeping-'))
after(() => rmSync(root, { recursive: true, force: true }))

const idleCutoff = secondsAfterEpoch(100)
const now = secondsAfterEpoch(200)

function readPlan(db: DatabaseSync, sql: string): string {
  return db
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all()
    .map((row) => String(row.detail))
    .join('; ')
}

describe('SQLite session housekeeping', () => {
  it('deleteExpiredSessions() deletes in small batches and answers a lookup made meanwhile before it ends', async (t) => {
    const stores = openSqliteStores(':memory:', contractEpoch)
    t.after(() => stores.close())
    const user = await insertTestUser(stores.accounts)
    const kept = buildSessionRecord({ userId: user.id, lastSeenAt: secondsAfterEpoch(150) })
    await stores.sessions.insertSession(kept)
    for (let index = 0; index < 1000; index += 1) {
      await stores.sessions.insertSession(buildSessionRecord({ userId: user.id, lastSeenAt: secondsAfterEpoch(50) }))
    }
    const events: string[] = []
    let turns = 0
    let isSweeping = true
    const countTurns = () => {
      turns += 1
      if (isSweeping) setImmediate(countTurns)
    }
    setImmediate(countTurns)
    const sweeping = stores.sessions.deleteExpiredSessions(idleCutoff, now).then((deleted) => {
      isSweeping = false
      events.push('sweep done')
      return deleted
    })
    await new Promise((resolve) => setImmediate(resolve))
    const lookup = stores.sessions.findSessionById(kept.id).then((found) => {
      events.push('lookup answered')
      return found
    })
    assert.equal(await sweeping, 1000)
    assert.deepEqual(await lookup, kept)
    assert.deepEqual(events, ['lookup answered', 'sweep done'])
    t.diagnostic(`the event loop turned ${turns} times during the sweep`)
    assert.ok(turns >= 5, `the event loop turned ${turns} times during the sweep`)
    assert.equal(await stores.sessions.countActiveSessions(idleCutoff, now), 1)
  })

  it('a transaction opened while the sweep runs neither takes its deletions in nor rolls them back', async (t) => {
    const stores = openSqliteStores(':memory:', contractEpoch)
    t.after(() => stores.close())
    const user = await insertTestUser(stores.accounts)
    const expired = Array.from({ length: 500 }, () =>
      buildSessionRecord({ userId: user.id, lastSeenAt: secondsAfterEpoch(50) }),
    )
    for (const session of expired) await stores.sessions.insertSession(session)
    const sweeping = stores.sessions.deleteExpiredSessions(idleCutoff, now)
    await new Promise((resolve) => setImmediate(resolve))
    // A change that fails after several turns of the event loop: its transaction rolls back.
    const failing = stores.runUnitOfWork(async () => {
      for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve))
      throw new Error('the change fails')
    })
    await assert.rejects(failing, /the change fails/)
    assert.equal(await sweeping, expired.length)
    for (const session of expired) assert.equal(await stores.sessions.findSessionById(session.id), null)
    assert.equal(await stores.sessions.deleteExpiredSessions(idleCutoff, now), 0)
  })

  it('the sweep and the gauge find expired sessions through indexes, never by reading every session', (t) => {
    const db = new DatabaseSync(':memory:')
    t.after(() => db.close())
    migrateSqlite(db, contractEpoch)
    const expired = 'last_seen_at < ? OR absolute_expires_at <= ?'
    for (const sql of [
      `SELECT rowid FROM sessions WHERE ${expired} LIMIT 64`,
      `SELECT count(*) FROM sessions WHERE ${expired}`,
    ]) {
      const plan = readPlan(db, sql)
      assert.match(plan, /USING INDEX sessions_by_last_seen/, plan)
      assert.match(plan, /USING INDEX sessions_by_absolute_expiry/, plan)
      assert.doesNotMatch(plan, /SCAN sessions/, plan)
    }
  })

  it('the tally of stored sessions follows inserts and deletes of every kind, cascades included', async (t) => {
    const dataDir = join(mkdtempSync(join(root, 'tally-')), 'data')
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    const users = [await insertTestUser(stores.accounts), await insertTestUser(stores.accounts)]
    for (const user of users) {
      for (let index = 0; index < 5; index += 1) {
        await stores.sessions.insertSession(buildSessionRecord({ userId: user.id, lastSeenAt: secondsAfterEpoch(150) }))
      }
    }
    const db = new DatabaseSync(join(dataDir, sqliteFileName))
    t.after(() => db.close())
    db.exec('PRAGMA foreign_keys = ON')
    const tally = () => Number(db.prepare('SELECT stored FROM session_tally').get()?.stored)
    const stored = () => Number(db.prepare('SELECT count(*) AS n FROM sessions').get()?.n)
    assert.equal(tally(), 10)
    db.prepare('DELETE FROM users WHERE id = ?').run(users[0]?.id ?? '')
    assert.deepEqual([tally(), stored()], [5, 5])
    db.exec('DELETE FROM sessions')
    assert.deepEqual([tally(), stored()], [0, 0])
    assert.equal(await stores.sessions.countActiveSessions(idleCutoff, now), 0)
  })

  it('the migration counts the sessions a database already holds', (t) => {
    const db = new DatabaseSync(join(mkdtempSync(join(root, 'upgrade-')), sqliteFileName))
    t.after(() => db.close())
    // The schema as it was before the tally: migrations 1 to 4.
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
    )
    for (const migration of readMigrationFiles(new URL('../../src/storage/sqlite/migrations/', import.meta.url))) {
      if (migration.version > 4) continue
      db.exec(migration.sql)
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name)
    }
    const user = buildUserRecord()
    db.prepare(
      `INSERT INTO users (id, username, username_key, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'x', 0, 0)`,
    ).run(user.id, user.username, user.usernameKey)
    const insert =
      db.prepare(`INSERT INTO sessions (id, token_hash, user_id, transport, created_at, last_seen_at, absolute_expires_at, ip, user_agent)
      VALUES (?, NULL, ?, 'token', 0, ?, ?, '192.0.2.1', 'test')`)
    for (let index = 0; index < 7; index += 1) insert.run(`s${index}`, user.id, now.getTime(), now.getTime() + 1000)
    migrateSqlite(db, contractEpoch)
    assert.equal(Number(db.prepare('SELECT stored FROM session_tally').get()?.stored), 7)
  })
})

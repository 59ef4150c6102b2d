/**
 * WAL checkpoints in a worker thread (src/storage/sqlite/checkpointer.ts): the server's own
 * connection keeps a high automatic threshold it never reaches, and the write-ahead log still
 * stays small because the worker checkpoints it.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it, type TestContext } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { fallbackCheckpointPages } from '../../src/storage/sqlite/checkpointer.ts'
import { openSqliteStores, sqliteFileName } from '../../src/storage/sqlite/open.ts'
import {
  buildSessionRecord,
  contractEpoch,
  insertTestUser,
  secondsAfterEpoch,
} from '../../src/storage/contract/records.ts'

const pageBytes = 4096
const rounds = 4
const sessionsPerRound = 150

function createDataDir(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'tessera-checkpoints-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  return join(root, 'data')
}

const walPages = (dataDir: string) => statSync(join(dataDir, `${sqliteFileName}-wal`)).size / (pageBytes + 24)

/**
 * Writes `rounds` rounds of sessions (a user agent of most of a page each; every insert is its
 * own transaction), pausing between rounds as a server's writes come and go. Returns the log's
 * size in pages after the first round and at its largest.
 */
async function writeRounds(dataDir: string): Promise<{ firstRoundPages: number; largestPages: number }> {
  const stores = openSqliteStores(dataDir, contractEpoch, { checkpointsInBackground: true })
  try {
    const user = await insertTestUser(stores.accounts)
    let firstRoundPages = 0
    let largestPages = 0
    for (let round = 0; round < rounds; round += 1) {
      for (let index = 0; index < sessionsPerRound; index += 1) {
        await stores.sessions.insertSession(buildSessionRecord({ userId: user.id, userAgent: 'x'.repeat(3000) }))
      }
      if (round === 0) firstRoundPages = walPages(dataDir)
      largestPages = Math.max(largestPages, walPages(dataDir))
      // Real time: the worker works on its own clock.
      await delay(1000)
    }
    return { firstRoundPages: Math.round(firstRoundPages), largestPages: Math.round(largestPages) }
  } finally {
    await stores.close()
  }
}

describe('SQLite checkpoints in the background', () => {
  it('the server connection leaves checkpoints to the worker, which lets the log start over between bursts', async (t) => {
    const dataDir = createDataDir(t)
    const { firstRoundPages, largestPages } = await writeRounds(dataDir)
    t.diagnostic(`one round wrote ${firstRoundPages} log pages; after ${rounds} rounds the log reached ${largestPages}`)
    // Far below the server connection's own threshold, which it therefore never reaches.
    assert.ok(firstRoundPages < fallbackCheckpointPages / 4, `${firstRoundPages} pages`)
    // The worker checkpointed each burst, so the next one started the log over instead of growing it.
    assert.ok(largestPages < firstRoundPages * 1.5, `the log reached ${largestPages} pages`)
  })

  it('the control: with the high threshold and no worker, the same writes grow the log past it', async (t) => {
    const dataDir = createDataDir(t)
    const stores = openSqliteStores(dataDir, contractEpoch)
    await stores.close()
    // What the server connection does while a worker runs, with no worker: nothing checkpoints.
    const db = new DatabaseSync(join(dataDir, sqliteFileName))
    db.exec(`PRAGMA wal_autocheckpoint = ${fallbackCheckpointPages}`)
    const user = 'control-user'
    db.prepare(
      `INSERT INTO users (id, username, username_key, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'x', 0, 0)`,
    ).run(user, user, user)
    const insert =
      db.prepare(`INSERT INTO sessions (id, user_id, transport, created_at, last_seen_at, absolute_expires_at, ip, user_agent)
      VALUES (?, ?, 'token', 0, 0, 1, '', ?)`)
    const firstRound = Array.from({ length: sessionsPerRound }, (_, index) => `s${index}`)
    for (const id of firstRound) insert.run(id, user, 'x'.repeat(3000))
    const firstRoundPages = walPages(dataDir)
    for (let index = sessionsPerRound; index < rounds * sessionsPerRound; index += 1)
      insert.run(`s${index}`, user, 'x'.repeat(3000))
    const pages = walPages(dataDir)
    db.close()
    assert.ok(
      pages > firstRoundPages * (rounds - 1),
      `${Math.round(pages)} pages against ${Math.round(firstRoundPages)} after one round`,
    )
  })

  it('a long sweep waits for the worker between runs of batches, so its deletes start the log over instead of growing it', async (t) => {
    const dataDir = createDataDir(t)
    const stores = openSqliteStores(dataDir, contractEpoch, { checkpointsInBackground: true })
    t.after(() => stores.close())
    const user = await insertTestUser(stores.accounts)
    // Two thousand sessions to sweep, each on a page of its own.
    const expiredCount = 2048
    for (let index = 0; index < expiredCount; index += 1) {
      await stores.sessions.insertSession(
        buildSessionRecord({ userId: user.id, userAgent: 'x'.repeat(3000), lastSeenAt: secondsAfterEpoch(10) }),
      )
    }
    // The worker checkpoints the inserts; the sweep's first write then starts the log over.
    await delay(1000)
    const started = performance.now()
    assert.equal(
      await stores.sessions.deleteExpiredSessions(secondsAfterEpoch(100), secondsAfterEpoch(200)),
      expiredCount,
    )
    const sweepMs = performance.now() - started
    // The pages written since the log last started over (a passive checkpoint reports them, and
    // changes nothing another connection could see).
    const reader = new DatabaseSync(join(dataDir, sqliteFileName))
    const logPages = Number(reader.prepare('PRAGMA wal_checkpoint(PASSIVE)').get()?.log)
    reader.close()
    t.diagnostic(
      `the sweep of ${expiredCount} sessions took ${sweepMs.toFixed(0)} ms and left ${logPages} pages in the log`,
    )
    // The same sweep without the waits left about 2,700 pages: every batch's after the last.
    assert.ok(logPages < 1200, `${logPages} pages`)
  })

  it('a database opened without the option checkpoints by itself as SQLite does, and closing stops the worker', async (t) => {
    const dataDir = createDataDir(t)
    const stores = openSqliteStores(dataDir, contractEpoch, { checkpointsInBackground: true })
    await stores.close()
    // No thread is left to keep the process alive (the test runner would hang otherwise).
    const reopened = new DatabaseSync(join(dataDir, sqliteFileName))
    assert.equal(Number(reopened.prepare('PRAGMA wal_autocheckpoint').get()?.wal_autocheckpoint), 1000)
    reopened.close()
  })
})

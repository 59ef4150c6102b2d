/**
 * The writes of one turn of the event loop share one commit (src/storage/sqlite/shared-commits.ts):
 * what they wrote is on disk, for every connection, before any of their calls settles; a failed
 * commit fails every call of the turn and leaves nothing behind; a unit of work waits for the
 * turn's commit and then runs in a transaction of its own. The reads of a turn share one
 * snapshot, which a write of the turn ends first and which never outlives the turn.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it, type TestContext } from 'node:test'
import { migrateSqlite } from '../../src/storage/sqlite/migrate.ts'
import { createSharedCommits, withSharedCommits } from '../../src/storage/sqlite/shared-commits.ts'
import { createSqliteThrottleStore } from '../../src/storage/sqlite/throttles.ts'
import { createSqliteTicketStore } from '../../src/storage/sqlite/tickets.ts'
import { createTransactionGate, gateStore } from '../../src/storage/sqlite/transaction-gate.ts'
import { openSqliteStores, sqliteFileName } from '../../src/storage/sqlite/open.ts'
import { contractEpoch } from '../../src/storage/contract/records.ts'

function createDataDir(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'tessera-shared-commits-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  return join(root, 'data')
}

/** A second connection to the same file, as another process would have. */
function openObserver(t: TestContext, dataDir: string) {
  const observer = new DatabaseSync(join(dataDir, sqliteFileName))
  t.after(() => observer.close())
  const countThrottles = observer.prepare('SELECT count(*) AS n FROM throttles')
  return { throttleRows: () => Number(countThrottles.get()?.n) }
}

const increment = (key: string) => [{ key, expiresAt: null }]

/** Throttle rows written by another connection at once, as a CLI beside the server would. */
function openOtherWriter(t: TestContext, dataDir: string) {
  const other = new DatabaseSync(join(dataDir, sqliteFileName))
  other.exec('PRAGMA busy_timeout = 1000')
  t.after(() => other.close())
  return createSqliteThrottleStore(other)
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** The stores, and another connection that has counted 'k' once, in an earlier turn. */
async function openWithOtherWriter(t: TestContext) {
  const dataDir = createDataDir(t)
  const stores = openSqliteStores(dataDir, contractEpoch)
  t.after(() => stores.close())
  const other = openOtherWriter(t, dataDir)
  await other.incrementThrottles(increment('k'), contractEpoch)
  await nextTurn()
  return { stores, other }
}

describe('writes sharing the commit of their turn (SQLite)', () => {
  it('commits the writes of one turn together, before any of their calls settles', async (t) => {
    const dataDir = createDataDir(t)
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    const observer = openObserver(t, dataDir)

    const writes = Array.from({ length: 20 }, (_, index) =>
      stores.throttles.incrementThrottles(increment(`key-${index}`), contractEpoch),
    )
    // A read of the same turn sees the turn's writes, so it settles with their commit too.
    const read = stores.throttles.readThrottles(['key-0'], contractEpoch)
    // Every statement has run, in one transaction not yet committed: another connection sees none.
    assert.equal(observer.throttleRows(), 0)
    const settled: number[] = []
    for (const write of writes) void write.then(() => settled.push(observer.throttleRows()))
    const [readRecord] = await read
    assert.equal(readRecord?.count, 1)
    assert.equal(observer.throttleRows(), 20)
    await Promise.all(writes)
    // Each call settled after the commit: all twenty rows were visible to every one of them.
    assert.deepEqual(
      settled,
      Array.from({ length: 20 }, () => 20),
    )
  })

  it('fails every call of a turn whose commit fails, and keeps none of its writes', async (t) => {
    const dataDir = createDataDir(t)
    mkdirSync(dataDir)
    const db = new DatabaseSync(join(dataDir, 'direct.db'))
    t.after(() => db.close())
    migrateSqlite(db, contractEpoch)
    const shared = createSharedCommits(db)
    const connection = withSharedCommits(db, shared)
    const gate = createTransactionGate(db, 1000, shared)
    const throttles = gateStore(createSqliteThrottleStore(connection), gate)
    const tickets = gateStore(createSqliteTicketStore(connection), gate)
    // Foreign keys checked at COMMIT: a ticket of a session that does not exist fails the commit
    // (not its own statement), as a disk that fills up at the commit would.
    db.exec('PRAGMA defer_foreign_keys = ON')

    const counted = throttles.incrementThrottles(increment('network-a'), contractEpoch)
    const orphan = tickets.insertTicket({
      ticketKey: 'hash-of-a-ticket',
      sessionId: 'no-such-session',
      userId: 'no-such-user',
      audience: 'game',
      issuedAt: contractEpoch,
      expiresAt: new Date(contractEpoch.getTime() + 30_000),
    })
    const outcomes = await Promise.allSettled([counted, orphan])
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected')
      assert.equal((outcome.reason as { code?: string }).code, 'service_unavailable')
    }
    assert.equal(db.isTransaction, false, 'the failed turn was rolled back')
    assert.deepEqual(await throttles.readThrottles(['network-a'], contractEpoch), [null])

    // The next turn starts afresh.
    assert.deepEqual(await throttles.incrementThrottles(increment('network-a'), contractEpoch), [1])
  })

  it('lets a statement that fails undo only itself, and the rest of its turn commit', async (t) => {
    const dataDir = createDataDir(t)
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    const observer = openObserver(t, dataDir)
    const ticket = {
      ticketKey: 'twice',
      sessionId: 'no-such-session',
      userId: 'no-such-user',
      audience: 'game',
      issuedAt: contractEpoch,
      expiresAt: new Date(contractEpoch.getTime() + 30_000),
    }
    const counted = stores.throttles.incrementThrottles(increment('network-b'), contractEpoch)
    const refused = stores.tickets.insertTicket(ticket)
    await assert.rejects(refused, /FOREIGN KEY/)
    assert.deepEqual(await counted, [1])
    assert.equal(observer.throttleRows(), 1)
  })

  it('never runs a call that waited for one unit of work inside the next one', async (t) => {
    const dataDir = createDataDir(t)
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    let releaseFirst = () => {}
    const held = new Promise<void>((resolve) => (releaseFirst = resolve))
    const first = stores.runUnitOfWork(() => held)
    // Queued behind the first unit of work: a second one (which rolls back) before a plain write.
    const second = stores.runUnitOfWork(async (bound) => {
      await bound.throttles.incrementThrottles(increment('rolled-back'), contractEpoch)
      await new Promise((resolve) => setImmediate(resolve))
      throw new Error('roll the second unit of work back')
    })
    const write = stores.throttles.incrementThrottles(increment('kept'), contractEpoch)
    releaseFirst()
    await first
    await assert.rejects(second, /roll the second unit of work back/)
    // The write settled as done: it must not have run inside the second unit of work.
    assert.deepEqual(await write, [1])
    const [kept, rolledBack] = await stores.throttles.readThrottles(['kept', 'rolled-back'], contractEpoch)
    assert.equal(kept?.count, 1)
    assert.equal(rolledBack, null)
  })

  it('commits the open turn before a unit of work starts its own transaction', async (t) => {
    const dataDir = createDataDir(t)
    const stores = openSqliteStores(dataDir, contractEpoch)
    t.after(() => stores.close())
    const observer = openObserver(t, dataDir)

    const before = stores.throttles.incrementThrottles(increment('before'), contractEpoch)
    const work = stores.runUnitOfWork(async (bound) => {
      // The turn's write is committed already: the unit of work's transaction is its own.
      assert.equal(observer.throttleRows(), 1)
      await bound.throttles.incrementThrottles(increment('inside'), contractEpoch)
      throw new Error('roll the unit of work back')
    })
    await assert.rejects(work, /roll the unit of work back/)
    assert.deepEqual(await before, [1])
    assert.equal(observer.throttleRows(), 1)
    assert.deepEqual(await stores.throttles.readThrottles(['inside'], contractEpoch), [null])
  })
})

describe('reads sharing the snapshot of their turn (SQLite)', () => {
  it('reads one snapshot in a turn and the newest data in the next one', async (t) => {
    const { stores, other } = await openWithOtherWriter(t)

    const [first] = await stores.throttles.readThrottles(['k'], contractEpoch)
    await other.incrementThrottles(increment('k'), contractEpoch)
    const [sameTurn] = await stores.throttles.readThrottles(['k'], contractEpoch)
    assert.equal(first?.count, 1)
    assert.equal(sameTurn?.count, 1, 'a read of the same turn keeps its snapshot')
    await nextTurn()
    const [nextTurnRead] = await stores.throttles.readThrottles(['k'], contractEpoch)
    assert.equal(nextTurnRead?.count, 2)
  })

  it('ends the snapshot before a write of its turn, so the write counts from the newest data', async (t) => {
    const { stores, other } = await openWithOtherWriter(t)

    const [read] = await stores.throttles.readThrottles(['k'], contractEpoch)
    assert.equal(read?.count, 1)
    assert.deepEqual(await other.incrementThrottles(increment('k'), contractEpoch), [2])
    // In the stale snapshot this write would fail (SQLite cannot upgrade it to a write).
    assert.deepEqual(await stores.throttles.incrementThrottles(increment('k'), contractEpoch), [3])
  })

  it('starts a unit of work on the newest data after a read of its turn', async (t) => {
    const { stores, other } = await openWithOtherWriter(t)

    await stores.throttles.readThrottles(['k'], contractEpoch)
    await other.incrementThrottles(increment('k'), contractEpoch)
    const seen = await stores.runUnitOfWork(async (bound) => {
      const [record] = await bound.throttles.readThrottles(['k'], contractEpoch)
      await bound.throttles.incrementThrottles(increment('k'), contractEpoch)
      return record?.count
    })
    assert.equal(seen, 2)
    const [after] = await stores.throttles.readThrottles(['k'], contractEpoch)
    assert.equal(after?.count, 3)
  })

  it('keeps no snapshot past its turn', async (t) => {
    const dataDir = createDataDir(t)
    mkdirSync(dataDir)
    const db = new DatabaseSync(join(dataDir, 'direct.db'))
    t.after(() => db.close())
    db.exec('PRAGMA journal_mode = WAL')
    migrateSqlite(db, contractEpoch)
    const shared = createSharedCommits(db)
    const throttles = gateStore(
      createSqliteThrottleStore(withSharedCommits(db, shared)),
      createTransactionGate(db, 1000, shared),
    )

    await throttles.readThrottles(['k'], contractEpoch)
    assert.equal(db.isTransaction, true, "the read opened the turn's snapshot")
    await nextTurn()
    assert.equal(db.isTransaction, false)
    // With no reader left, a checkpoint can copy the whole log back and empty it.
    const checkpoint = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get()
    assert.equal(checkpoint?.busy, 0)
  })
})

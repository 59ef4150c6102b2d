/**
 * Writes made in one turn of the event loop share one commit. In WAL mode a commit appends every
 * page it changed to the log; the sign-ins, refreshes and audit events of one turn change many of
 * the same pages (the newest leaf of each time-ordered index, a network's throttle row), so one
 * commit for all of them writes each page once instead of once per statement.
 *
 * The first write of a turn opens the shared transaction (BEGIN IMMEDIATE, as a lone write
 * would); it commits when the turn's callbacks have run (setImmediate). A store call that ran
 * while it was open, a read included (it may have seen the turn's writes), settles only once the
 * commit has succeeded, so no caller is told of a change that is not on disk, and a failed commit
 * fails every call of the turn (`service_unavailable`). A statement that fails inside the turn
 * undoes only itself (SQLite's statement rollback, or the savepoint of `runAtomically`).
 *
 * Reads of a turn share one snapshot the same way. Outside a transaction every SELECT would begin
 * and end a read transaction of its own, taking and dropping the WAL read lock with two fcntl()
 * calls and checking the page cache against the log each time (about 4 µs of a 5 µs primary-key
 * read, measured); the first read of a turn opens a deferred transaction instead, which ends when
 * the turn does. The snapshot is at most one turn old, as if the reads had run an instant earlier.
 * A write ends it before opening the write transaction, so the write sees the newest data and a
 * write by another process (a CLI beside the server) can never make it fail as a stale snapshot.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { createStoreUnavailableError } from '../store-unavailable.ts'

export interface SharedCommits {
  /** Opens the turn's read snapshot, unless a transaction (shared, or a unit of work's) is open. */
  openForRead(): void
  /**
   * Opens the turn's shared transaction (ending a read snapshot first), unless a write
   * transaction (shared, or a unit of work's) is open.
   */
  openForWrite(): void
  /** The commit of the shared transaction open now, or null when none is open. */
  pendingCommit(): Promise<void> | null
  /**
   * Commits the open shared transaction, or ends the read snapshot, at once (before a unit of
   * work starts, or the connection closes).
   */
  commitNow(): void
}

interface OpenTurn {
  committed: Promise<void>
  settle(error: unknown): void
}

const registry = new WeakMap<object, SharedCommits>()

/** The shared commits of the connection `db`, when it has them (see `runAtomically`). */
export function sharedCommitsOf(db: DatabaseSync): SharedCommits | undefined {
  return registry.get(db)
}

export function createSharedCommits(db: DatabaseSync): SharedCommits {
  // Prepared once: the read snapshot opens and ends in most turns.
  const beginReading = db.prepare('BEGIN')
  const endReading = db.prepare('COMMIT')
  let turn: OpenTurn | null = null
  /** The read snapshot open now (its token, so that a later turn's snapshot is not ended early). */
  let reading: object | null = null

  function stopReading(): void {
    reading = null
    // Nothing was written in it: ending it only drops the snapshot. SQLite may have rolled it
    // back itself after an I/O error, and then there is nothing to end.
    if (db.isTransaction) endReading.run()
  }

  function commit(): void {
    if (reading !== null) stopReading()
    const ending = turn
    if (ending === null) return
    turn = null
    try {
      // A statement error of the kind that rolls a whole transaction back (a full disk, I/O)
      // leaves none to commit: the turn's writes are gone, so its calls fail.
      if (!db.isTransaction) throw new Error('the shared transaction was rolled back')
      db.exec('COMMIT')
      ending.settle(null)
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK')
      ending.settle(createStoreUnavailableError(error))
    }
  }

  const shared: SharedCommits = {
    openForRead() {
      if (reading !== null || db.isTransaction) return
      beginReading.run()
      const token = {}
      reading = token
      setImmediate(() => {
        if (reading === token) stopReading()
      })
    },

    openForWrite() {
      if (reading !== null) stopReading()
      if (db.isTransaction) return
      // A turn rolled back by SQLite itself is over: its calls learn so at its commit.
      if (turn !== null) commit()
      db.exec('BEGIN IMMEDIATE')
      let settle: (error: unknown) => void = () => {}
      const committed = new Promise<void>((resolve, reject) => {
        settle = (error) => (error === null ? resolve() : reject(error))
      })
      // Every call of the turn awaits this promise; one that failed on its own does not, and
      // the rejection must not count as unhandled.
      committed.catch(() => {})
      turn = { committed, settle }
      setImmediate(commit)
    },

    pendingCommit() {
      return turn?.committed ?? null
    },

    commitNow: commit,
  }
  return shared
}

/** Statements that can change the database (anything but a SELECT) open the turn's transaction first. */
function isRead(sql: string): boolean {
  return /^\s*SELECT\b/i.test(sql)
}

/** The statement with each of its methods opening the turn's transaction (`open`) first. */
function wrapStatement(statement: StatementSync, open: () => void): StatementSync {
  const opening = (name: 'run' | 'get' | 'all') => {
    const method = statement[name] as (...parameters: unknown[]) => unknown
    return (...parameters: unknown[]) => {
      open()
      return method.apply(statement, parameters)
    }
  }
  const methods: Record<PropertyKey, unknown> = { run: opening('run'), get: opening('get'), all: opening('all') }
  return new Proxy(statement, {
    get(target, property) {
      if (property in methods) return methods[property]
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/**
 * The connection as the stores see it: the same, except that a statement that writes opens the
 * turn's shared transaction before it runs, and one that reads the turn's snapshot.
 */
export function withSharedCommits(db: DatabaseSync, shared: SharedCommits): DatabaseSync {
  const prepare = (sql: string, ...rest: unknown[]): StatementSync => {
    const statement = (db.prepare as (sql: string, ...rest: unknown[]) => StatementSync)(sql, ...rest)
    return wrapStatement(statement, isRead(sql) ? shared.openForRead : shared.openForWrite)
  }
  const connection = new Proxy(db, {
    get(target, property) {
      if (property === 'prepare') return prepare
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  registry.set(connection, shared)
  return connection
}

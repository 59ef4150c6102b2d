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
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { createStoreUnavailableError } from '../store-unavailable.ts'

export interface SharedCommits {
  /** Opens the turn's shared transaction, unless a transaction (shared, or a unit of work's) is open. */
  openForWrite(): void
  /** The commit of the shared transaction open now, or null when none is open. */
  pendingCommit(): Promise<void> | null
  /** Commits the open shared transaction at once (before a unit of work starts, or the connection closes). */
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
  let turn: OpenTurn | null = null

  function commit(): void {
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
    openForWrite() {
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

function wrapWrite(statement: StatementSync, shared: SharedCommits): StatementSync {
  // Each method opens the turn's transaction, then runs as the statement's own.
  const opening = (name: 'run' | 'get' | 'all') => {
    const method = statement[name] as (...parameters: unknown[]) => unknown
    return (...parameters: unknown[]) => {
      shared.openForWrite()
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
 * turn's shared transaction before it runs.
 */
export function withSharedCommits(db: DatabaseSync, shared: SharedCommits): DatabaseSync {
  const prepare = (sql: string, ...rest: unknown[]): StatementSync => {
    const statement = (db.prepare as (sql: string, ...rest: unknown[]) => StatementSync)(sql, ...rest)
    return isRead(sql) ? statement : wrapWrite(statement, shared)
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

/**
 * Lets a unit of work hold the one SQLite connection. node:sqlite is synchronous, but a unit of
 * work is async (the core awaits its store calls one after the other), so while it waits between
 * two statements other requests could run statements on the same connection: they would land
 * inside its transaction (and roll back with it), or fail on a nested BEGIN. The gate prevents
 * both, explicitly: the unit of work receives the stores bound to its transaction, which run at
 * once, and every call made through the gated stores waits until no transaction is open. A wait is
 * bounded by the backend timeout: a unit of work that calls a gated store would otherwise wait
 * for itself; it fails as `service_unavailable` instead, and its transaction rolls back.
 */
import type { DatabaseSync } from 'node:sqlite'
import { createStoreUnavailableError } from '../store-unavailable.ts'
import type { SharedCommits } from './shared-commits.ts'

export interface TransactionGate {
  /**
   * Calls `call` once no unit of work is open; the check and the call are one synchronous step.
   * A call that ran inside the turn's shared transaction settles once that has committed.
   */
  callInTurn<T>(call: () => T): Promise<Awaited<T>>
  /** Runs `work` inside BEGIN IMMEDIATE … COMMIT (ROLLBACK on a throw), one at a time. */
  runInTransaction<T>(work: () => Promise<T>): Promise<T>
}

export function createTransactionGate(
  db: DatabaseSync,
  waitLimitMs: number,
  shared: SharedCommits | null = null,
): TransactionGate {
  let open: Promise<void> | null = null

  async function waitForTurn(): Promise<void> {
    if (open === null) return
    const deadline = performance.now() + waitLimitMs
    while (open !== null) {
      const remainingMs = deadline - performance.now()
      if (remainingMs <= 0) throw createStoreUnavailableError(new Error('timed out waiting for a transaction to end'))
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, remainingMs)))
      await Promise.race([open, timeout])
      clearTimeout(timer)
    }
  }

  return {
    async callInTurn<T>(call: () => T): Promise<Awaited<T>> {
      // Checked again after each wait, as a unit of work does: the wait ends a step before this
      // resumes, and a unit of work waiting too may have begun in that step; the call would
      // then run inside its transaction, and be rolled back with it.
      while (open !== null) await waitForTurn()
      const result = call()
      const commit = shared?.pendingCommit() ?? null
      if (commit === null) return await result
      const value = await result
      await commit
      return value
    },

    async runInTransaction(work) {
      // Checked again after each wait: another transaction may have opened in between.
      while (open !== null) await waitForTurn()
      // The turn's shared writes commit first: the unit of work starts a transaction of its own.
      shared?.commitNow()
      let release = () => {}
      open = new Promise<void>((resolve) => (release = resolve))
      try {
        db.exec('BEGIN IMMEDIATE')
        try {
          const result = await work()
          db.exec('COMMIT')
          return result
        } catch (error) {
          if (db.isTransaction) db.exec('ROLLBACK')
          throw error
        }
      } finally {
        open = null
        release()
      }
    },
  }
}

/**
 * The same store with every method waiting for its turn first. Stores hand plain async methods
 * out, so wrapping each one keeps the adapters themselves unaware of the gate.
 */
export function gateStore<T extends object>(store: T, gate: TransactionGate): T {
  const gated: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(store)) {
    gated[name] =
      typeof method === 'function'
        ? (...args: unknown[]) => gate.callInTurn(() => (method as (...inner: unknown[]) => unknown)(...args))
        : method
  }
  return gated as T
}

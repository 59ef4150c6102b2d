/**
 * Lets a sequence of store calls run as one SQLite transaction. node:sqlite is synchronous, but
 * the stores' methods are async, so while a transaction waits between two of its statements
 * other requests could run statements on the same connection: they would land inside it (and
 * roll back with it), or fail on a nested BEGIN. The gate prevents both: while a transaction is
 * open, every gated store call from outside it waits; calls made by the transaction's own work
 * (recognised through AsyncLocalStorage) go through. Transactions are short: they hold store
 * calls only, never password hashing or signing.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { DatabaseSync } from 'node:sqlite'

export interface TransactionGate {
  /**
   * Calls `call` once no transaction of another caller is open. The check and the call happen
   * in one synchronous step, so no transaction can open in between.
   */
  callInTurn<T>(call: () => T): Promise<Awaited<T>>
  /** Runs `work` inside BEGIN IMMEDIATE … COMMIT (ROLLBACK on a throw), one at a time. */
  runInTransaction<T>(work: () => Promise<T>): Promise<T>
}

export function createTransactionGate(db: DatabaseSync): TransactionGate {
  const owner = new AsyncLocalStorage<symbol>()
  let current: { token: symbol; done: Promise<void> } | null = null

  const isOthers = () => current !== null && owner.getStore() !== current.token

  return {
    async callInTurn<T>(call: () => T): Promise<Awaited<T>> {
      while (current && isOthers()) await current.done
      return await call()
    },

    async runInTransaction(work) {
      if (current && !isOthers()) return work()
      while (current && isOthers()) await current.done
      let release = () => {}
      const token = Symbol('transaction')
      current = { token, done: new Promise<void>((resolve) => (release = resolve)) }
      try {
        return await owner.run(token, async () => {
          db.exec('BEGIN IMMEDIATE')
          try {
            const result = await work()
            db.exec('COMMIT')
            return result
          } catch (error) {
            if (db.isTransaction) db.exec('ROLLBACK')
            throw error
          }
        })
      } finally {
        current = null
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

/**
 * The PostgreSQL connection pool, with every wait bounded: connecting, waiting for a pooled
 * connection and each statement give up after the backend timeout, so a database that is down
 * or stalled turns into a quick `service_unavailable` instead of a hung request.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import pg from 'pg'
import { TesseraError } from '../../core/errors.ts'
import { createStoreUnavailableError, isProgrammingError } from '../store-unavailable.ts'

export type Row = Record<string, unknown>

export interface Queryable {
  /** Runs one statement and returns its rows. */
  query(text: string, values?: readonly unknown[]): Promise<Row[]>
}

export interface Database extends Queryable {
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
   * Every `query` made on this database from inside `work` (by any store sharing it) joins the
   * transaction; a transaction started inside one joins it too.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export interface DatabaseOptions {
  url: string
  schema: string
  poolSize: number
  timeoutMs: number
  /** Longest statement; the backend timeout when not set (migrations may need longer). */
  statementTimeoutMs?: number
  /** Called for connection errors outside any request (an idle connection dropped). */
  onBackgroundError?(error: unknown): void
}

/**
 * SQLSTATEs that mean "not now" rather than "wrong": connection failures, exhausted resources,
 * shutdown, a statement cancelled by the statement timeout, and concurrency conflicts.
 */
function isUnavailableState(code: string): boolean {
  return (
    ['08', '53', '57P', '58'].some((prefix) => code.startsWith(prefix)) ||
    ['57014', '40001', '40P01'].includes(code)
  )
}

/**
 * Maps a driver error: an unreachable or restarting server becomes `service_unavailable`;
 * server answers such as a unique violation stay as they are, for the adapter to read.
 */
export function translateError(error: unknown): unknown {
  if (error instanceof TesseraError) return error
  if (error instanceof pg.DatabaseError) {
    return typeof error.code === 'string' && isUnavailableState(error.code) ? createStoreUnavailableError(error) : error
  }
  return isProgrammingError(error) ? error : createStoreUnavailableError(error)
}

/** The SQLSTATE of a server error, or null. */
export function readSqlState(error: unknown): string | null {
  return error instanceof pg.DatabaseError && typeof error.code === 'string' ? error.code : null
}

export function openDatabase(options: DatabaseOptions): Database {
  const timeoutMs = Math.max(1, Math.round(options.timeoutMs))
  const statementTimeoutMs = Math.max(1, Math.round(options.statementTimeoutMs ?? timeoutMs))
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: statementTimeoutMs,
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: Math.max(statementTimeoutMs * 5, 10_000),
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'tessera',
    // The schema is a validated identifier (see config), so it can stand in the startup options.
    options: `-c search_path=${options.schema}`,
  })
  // An idle pooled connection that dies (server restart) emits here; without a listener the
  // process would crash. The pool replaces it on next use.
  pool.on('error', (error) => options.onBackgroundError?.(error))
  // The transaction's connection, seen by the queries made inside it (and only by those: each
  // request has its own async context, so concurrent requests stay outside).
  const ambient = new AsyncLocalStorage<Queryable>()

  return {
    async query(text, values = []) {
      const tx = ambient.getStore()
      if (tx) return tx.query(text, values)
      try {
        return (await pool.query(text, values as unknown[])).rows as Row[]
      } catch (error) {
        throw translateError(error)
      }
    },

    async transaction(work) {
      const outer = ambient.getStore()
      if (outer) return work(outer)
      let client: pg.PoolClient
      try {
        client = await pool.connect()
      } catch (error) {
        throw translateError(error)
      }
      // The last driver error: the caller's own errors from `work` pass through unchanged.
      let failure: unknown = undefined
      const send = async (text: string, values: readonly unknown[] = []): Promise<Row[]> => {
        try {
          return (await client.query(text, values as unknown[])).rows as Row[]
        } catch (error) {
          failure = error
          throw translateError(error)
        }
      }
      try {
        await send('BEGIN')
        const tx: Queryable = { query: send }
        const result = await ambient.run(tx, () => work(tx))
        await send('COMMIT')
        return result
      } catch (error) {
        try {
          await client.query('ROLLBACK')
        } catch {
          // The connection is already broken; releasing it with the error discards it.
        }
        throw error
      } finally {
        // A connection that failed mid-transaction is destroyed rather than reused.
        client.release(failure instanceof Error && !(failure instanceof pg.DatabaseError) ? failure : undefined)
      }
    },

    close: () => pool.end(),
  }
}

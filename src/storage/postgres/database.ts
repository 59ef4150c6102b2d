/**
 * The PostgreSQL connection pool, with every call bounded end to end: one statement, or one
 * transaction, from the wait for a pooled connection to the last answer, gets the backend
 * timeout in all, so a database that is down or stalled turns into a quick `service_unavailable`
 * instead of a hung request. A connection that dies while a call holds it (a server stopped or
 * restarted) fails that call and is discarded; the pool opens new ones as the server returns.
 */
import pg from 'pg'
import { TesseraError } from '../../core/errors.ts'
import { finishesWithin, runWithinDeadline, type Deadline } from '../backend-deadline.ts'
import { createStoreUnavailableError, isProgrammingError } from '../store-unavailable.ts'

export type Row = Record<string, unknown>

export interface Queryable {
  /** Runs one statement and returns its rows. */
  query(text: string, values?: readonly unknown[]): Promise<Row[]>
}

/** What a store runs its statements on: the pool, or the connection of an open transaction. */
export interface SqlSession extends Queryable {
  /**
   * Runs `work` in one transaction on one connection: committed when it resolves, rolled back
   * when it throws. On a session that is itself a transaction it nests as a savepoint, so a
   * store's own multi-statement step stays atomic inside a unit of work.
   */
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>
}

export interface Database extends SqlSession {
  close(): Promise<void>
}

export interface DatabaseOptions {
  url: string
  schema: string
  poolSize: number
  timeoutMs: number
  /**
   * Longest statement, and longest call; the backend timeout when not set (migrations may need
   * longer).
   */
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
    ['08', '53', '57P', '58'].some((prefix) => code.startsWith(prefix)) || ['57014', '40001', '40P01'].includes(code)
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

const writeStatement = /^\s*(?:WITH\b[\s\S]*\b)?(?:INSERT|UPDATE|DELETE)\b/i

/**
 * The session of an open transaction. A nested transaction is a savepoint, run one at a time:
 * while one is open, statements sent through the outer session wait for it, and the nested work
 * gets a session of its own, so a concurrent caller's statement never lands inside (and rolls
 * back with) someone else's savepoint.
 *
 * A failed statement aborts a whole PostgreSQL transaction, where SQLite undoes the statement
 * alone; a store that answers a unique violation with an outcome (`username_taken`) would leave
 * the unit of work around it unable to go on. So each write runs in its own savepoint here, and a
 * store method behaves the same inside a unit of work as outside one.
 */
function createTransactionSession(
  send: (text: string, values?: readonly unknown[]) => Promise<Row[]>,
  depth = 0,
): SqlSession {
  // One step at a time on this session, in the order asked: statements, and nested transactions
  // with everything their own session sends.
  let tail: Promise<unknown> = Promise.resolve()
  function inTurn<T>(step: () => Promise<T>): Promise<T> {
    const run = tail.then(step)
    tail = run.catch(() => {})
    return run
  }
  const statementSavepoint = `statement_${depth}`
  return {
    query: (text, values = []) =>
      inTurn(async () => {
        if (!writeStatement.test(text)) return send(text, values)
        await send(`SAVEPOINT ${statementSavepoint}`)
        try {
          const rows = await send(text, values)
          await send(`RELEASE SAVEPOINT ${statementSavepoint}`)
          return rows
        } catch (error) {
          await send(`ROLLBACK TO SAVEPOINT ${statementSavepoint}`).catch(() => {})
          throw error
        }
      }),
    transaction: (nested) =>
      inTurn(async () => {
        const name = `step_${depth + 1}`
        await send(`SAVEPOINT ${name}`)
        try {
          const result = await nested(createTransactionSession(send, depth + 1))
          await send(`RELEASE SAVEPOINT ${name}`)
          return result
        } catch (error) {
          // Undo this step only; a broken connection fails the whole transaction anyway.
          await send(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => {})
          throw error
        }
      }),
  }
}

interface PooledConnection {
  /** Sends one statement; refused once the call's deadline has passed or the connection failed. */
  send(text: string, values?: readonly unknown[]): Promise<Row[]>
  /** Ends the open transaction: ROLLBACK on a sound connection, nothing on one to be discarded. */
  rollBack(): Promise<void>
  /** Returns the connection to the pool, or discards it when it failed or holds a transaction. */
  release(): void
}

/** Takes a connection from the pool for one call, watching it for failure while it is held. */
async function checkOut(pool: pg.Pool, deadline: Deadline): Promise<PooledConnection> {
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (error) {
    throw translateError(error)
  }
  // Why the connection must not go back to the pool; null while it is sound.
  let failure: Error | null = null
  let hasSent = false
  // A held connection has no other listener: a server that ends it (a restart, `pg_ctl stop`)
  // would otherwise emit an unhandled 'error' and end the process.
  const onError = (error: Error) => {
    failure ??= error
  }
  client.on('error', onError)
  const send = async (text: string, values: readonly unknown[] = []): Promise<Row[]> => {
    // After the deadline the caller has had its answer: nothing more goes out on its behalf.
    if (deadline.signal.aborted) throw createStoreUnavailableError(deadline.signal.reason)
    if (failure) throw createStoreUnavailableError(failure)
    hasSent = true
    try {
      // The driver reads a per-query `query_timeout` (its types do not declare it): the statement
      // gets what is left of the call, and a connection left waiting for an answer is discarded.
      const statement: pg.QueryConfig & { query_timeout: number } = {
        text,
        values: values as unknown[],
        query_timeout: Math.max(1, Math.ceil(deadline.remainingMs())),
      }
      return (await client.query(statement)).rows as Row[]
    } catch (error) {
      // A server's answer (a constraint, a cancelled statement) leaves the connection sound.
      if (!(error instanceof pg.DatabaseError)) failure ??= error instanceof Error ? error : new Error(String(error))
      throw translateError(error)
    }
  }
  return {
    send,
    async rollBack() {
      if (!hasSent) return
      // Past the deadline nothing is sent: discarding the connection ends the transaction.
      if (deadline.signal.aborted) failure ??= new Error('a transaction outlived its deadline')
      if (failure) return
      try {
        await send('ROLLBACK')
      } catch {
        // The connection is now marked failed; discarding it ends the transaction on the server.
      }
    },
    release() {
      client.removeListener('error', onError)
      client.release(failure ?? undefined)
    },
  }
}

export function openDatabase(options: DatabaseOptions): Database {
  const timeoutMs = Math.max(1, Math.round(options.timeoutMs))
  const statementTimeoutMs = Math.max(1, Math.round(options.statementTimeoutMs ?? timeoutMs))
  const callTimeoutMs = Math.max(timeoutMs, statementTimeoutMs)
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
  return {
    async query(text, values = []) {
      return runWithinDeadline(callTimeoutMs, 'PostgreSQL', async (deadline) => {
        const connection = await checkOut(pool, deadline)
        try {
          return await connection.send(text, values)
        } finally {
          connection.release()
        }
      })
    },

    async transaction(work) {
      // The caller's own errors from `work` pass through unchanged; driver errors are translated.
      return runWithinDeadline(callTimeoutMs, 'PostgreSQL', async (deadline) => {
        const connection = await checkOut(pool, deadline)
        try {
          await connection.send('BEGIN')
          const result = await work(createTransactionSession(connection.send))
          await connection.send('COMMIT')
          return result
        } catch (error) {
          await connection.rollBack()
          throw error
        } finally {
          connection.release()
        }
      })
    },

    async close() {
      // A paused server never acknowledges the end of its connections: stop waiting for it.
      await finishesWithin(pool.end(), timeoutMs)
    },
  }
}

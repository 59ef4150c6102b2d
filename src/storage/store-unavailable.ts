/**
 * A store that cannot answer (refused, dropped or timed-out connection, a server restarting)
 * makes the request fail with `service_unavailable` (503 with Retry-After): the caller retries
 * later, and nothing that needed the store is decided without it. The driver's error stays as
 * the cause, for the log only.
 */
import { TesseraError } from '../core/errors.ts'

export function createStoreUnavailableError(cause: unknown): TesseraError {
  return new TesseraError('service_unavailable', 'A store is not reachable; retry shortly.', { cause })
}

/** Errors of our own code (a bug) stay internal errors, never "try again later". */
export function isProgrammingError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof SyntaxError ||
    error instanceof ReferenceError
  )
}

/**
 * Undoing what a failed operation left behind: a session started but never handed out, a
 * throttle charge for an attempt that verified nothing.
 *
 * A store that failed the operation with `service_unavailable` took the backend timeout to do so,
 * and the undo goes to a store of the same backends, where it may take that whole timeout again:
 * awaited one after another, the steps of one request would each add their own timeout to the
 * answer (TESSERA_BACKEND_TIMEOUT bounds one call, and a client waits for a request). So after an
 * outage the undo runs on its own and the answer does not wait for it; its failure is dropped,
 * and what it leaves is harmless (a session nobody holds a token of; a charge taken for a
 * failure once it is overdue). After any other failure the undo is awaited as before.
 */
import { TesseraError } from './errors.ts'

export function isServiceUnavailable(error: unknown): boolean {
  return error instanceof TesseraError && error.code === 'service_unavailable'
}

/** Runs `undo` for an operation that failed with `error`; awaited unless the failure was an outage. */
export async function undoAfterFailure(error: unknown, undo: () => Promise<unknown>): Promise<void> {
  if (!isServiceUnavailable(error)) {
    await undo()
    return
  }
  undo().catch(() => {})
}

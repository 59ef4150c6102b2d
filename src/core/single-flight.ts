/**
 * Housekeeping that runs on a timer must not pile up: a sweep that has not finished when its next
 * turn comes (ten minutes of expired sessions at a million, on a busy machine) would otherwise run
 * twice at once, each slowing the other and both contending for the store with the requests.
 */

/** `run`, except that a call made while an earlier one is still running gets that one's promise. */
export function singleFlight<T>(run: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null
  return () => {
    if (running === null) {
      running = run().finally(() => {
        running = null
      })
    }
    return running
  }
}

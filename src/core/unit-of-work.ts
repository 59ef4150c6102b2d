/**
 * A unit of work: one transaction of the durable store, the audit events that record what it
 * changed, and what must follow once it is committed. This is how every change is made:
 *
 * 1. `work` reads and writes through the stores bound to the transaction, and records its events
 *    with `change.record()`; the events are appended in the same transaction, so a change and its
 *    events persist together or not at all. An event about an account names it; a username on an
 *    event about none is looked up through the transaction's own account store, to be kept as
 *    the account's name or as a digest (audit/attempted-username.ts).
 * 2. After the commit, the steps registered with `change.afterCommit()` run: dropping cached
 *    copies, telling other nodes, tidying hot stores (Redis). The change is already decided in the
 *    durable store by then, in its safer form (a session that must end is over once its end is
 *    committed), so a failing step leaves nothing in force that should not be: the call throws
 *    and the client gets an error, but no old session survives and no event is missing.
 *
 * Work that needs a hot store first (listing sessions to name them in events) reads it before
 * the unit of work, so an outage there refuses the operation before anything changed.
 */
import type { Audit, AuditEventInput } from './audit/audit.ts'
import type { AuditEventRecord } from './audit/events.ts'
import { TesseraError } from './errors.ts'
import type { DurableStores, Stores } from './stores.ts'

export interface Change {
  /** The durable stores, bound to this transaction. */
  stores: DurableStores
  /** Records an event of this change; it is stored in the same transaction. */
  record(event: AuditEventInput): void
  /** Runs `step` after the commit (in registration order). */
  afterCommit(step: () => void | Promise<void>): void
}

export interface UnitOfWork {
  /**
   * Runs `work` as one change. Throws what `work` throws (nothing persists then), or
   * `service_unavailable` when the store fails or a step after the commit fails.
   */
  run<T>(work: (change: Change) => Promise<T>): Promise<T>
}

export function createUnitOfWork(deps: { stores: Pick<Stores, 'runUnitOfWork'>; audit: Audit }): UnitOfWork {
  const { stores, audit } = deps
  return {
    async run<T>(work: (change: Change) => Promise<T>): Promise<T> {
      let events: AuditEventRecord[] = []
      const steps: Array<() => void | Promise<void>> = []
      let isWorkDone = false
      let result: T
      try {
        result = await stores.runUnitOfWork(async (tx) => {
          const recorded: AuditEventInput[] = []
          const value = await work({
            stores: tx,
            record: (event) => void recorded.push(event),
            afterCommit: (step) => void steps.push(step),
          })
          isWorkDone = true
          events = await audit.buildEvents(recorded, tx.accounts)
          if (events.length > 0) await tx.audit.appendEvents(events)
          return value
        })
      } catch (error) {
        // A refusal of the change itself passes through; a failure once the work was done is the
        // audit write or the commit failing, and nothing was changed.
        if (!isWorkDone || error instanceof TypeError) throw error
        throw audit.refuseUnrecorded(events, error)
      }
      audit.announceEvents(events)
      const failures: unknown[] = []
      for (const step of steps) {
        try {
          await step()
        } catch (error) {
          failures.push(error)
        }
      }
      if (failures.length > 0) {
        const [first] = failures
        if (first instanceof TesseraError || first instanceof TypeError) throw first
        throw new TesseraError(
          'service_unavailable',
          'The change was saved, but not yet applied everywhere; retry shortly.',
          {
            cause: first,
          },
        )
      }
      return result
    },
  }
}

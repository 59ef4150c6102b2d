/**
 * The audit trail: one `record()` call per security event, from the core flows only. An event
 * that changes state is written with that change (`recordChange`: one transaction where the
 * store has them). Writing fails closed: when an event cannot be stored the operation is
 * refused with `service_unavailable` (and, inside `recordChange`, nothing is changed); the
 * event is handed to the observer, which puts it in the server log, so no attempt goes unseen.
 */
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import type { CoreObserver } from '../observer.ts'
import type { RequestContext } from '../request-context.ts'
import type { AttemptedUsernames } from './attempted-username.ts'
import { createEventIdSequence } from './event-id.ts'
import {
  assertSafeDetails,
  type AuditDetails,
  type AuditEventRecord,
  type AuditEventType,
  type AuditOutcome,
  type AuditReason,
} from './events.ts'
import type { AuditCursor, AuditEventFilter, AuditStore } from './store.ts'

export interface AuditEventInput {
  type: AuditEventType
  outcome: AuditOutcome
  reason?: AuditReason | null
  actorUserId?: string | null
  subjectUserId?: string | null
  /**
   * The username as the client sent it. Stored as the account's key when it names an account
   * (the event's subject, or an account found by that name), otherwise as a keyed digest.
   */
  username?: string | null
  sessionId?: string | null
  details?: AuditDetails
  context: RequestContext
}

export interface AuditPage {
  events: AuditEventRecord[]
  /** Pass back to get the next page; null on the last page. */
  nextCursor: AuditCursor | null
}

export interface Audit {
  /** Stores one event; throws `service_unavailable` when it cannot. */
  record(event: AuditEventInput): Promise<void>
  /**
   * Runs `change` and stores the events `describe` builds from its result together with it.
   * When the events cannot be stored, the change does not persist (SQLite) and the call throws
   * `service_unavailable`.
   */
  recordChange<T>(change: () => Promise<T>, describe: (result: T) => AuditEventInput | readonly AuditEventInput[]): Promise<T>
  queryEvents(filter: AuditEventFilter, page: { order?: 'oldest_first' | 'newest_first'; after: AuditCursor | null; limit: number }): Promise<AuditPage>
  /** Removes events older than the retention, at most `batchSize` × `maxBatches`; returns how many. */
  pruneEvents(options: { retentionSeconds: number; batchSize: number; maxBatches: number }): Promise<number>
}

const maxUserAgentLength = 256

export function createAudit(deps: {
  store: AuditStore
  clock: Clock
  nodeId: string
  observer: CoreObserver
  usernames: AttemptedUsernames
}): Audit {
  const { store, clock, nodeId, observer, usernames } = deps
  const createEventId = createEventIdSequence()

  /** An event about an account names it; any other attempted name is looked up. */
  async function describeUsername(input: AuditEventInput): Promise<string | null> {
    if (input.username == null) return null
    if (input.subjectUserId != null) return usernames.describeKnown(input.username, true)
    return usernames.describeAttempt(input.username)
  }

  function buildRecord(input: AuditEventInput, username = describeKnownUsername(input)): AuditEventRecord {
    const details = input.details ?? {}
    assertSafeDetails(details)
    const occurredAt = clock.now()
    return {
      id: createEventId(occurredAt),
      occurredAt,
      type: input.type,
      outcome: input.outcome,
      reason: input.reason ?? null,
      actorUserId: input.actorUserId ?? null,
      subjectUserId: input.subjectUserId ?? null,
      username,
      ip: input.context.ip === '' ? null : input.context.ip,
      userAgent: input.context.userAgent === null ? null : input.context.userAgent.slice(0, maxUserAgentLength),
      sessionId: input.sessionId ?? null,
      requestId: input.context.requestId,
      nodeId,
      details,
    }
  }

  // Inside a change nothing is looked up: events there name their subject, or no username.
  function describeKnownUsername(input: AuditEventInput): string | null {
    return input.username == null ? null : usernames.describeKnown(input.username, input.subjectUserId != null)
  }

  function refuse(events: readonly AuditEventRecord[], error: unknown): TesseraError {
    observer.auditWriteFailed(events, error)
    return new TesseraError('service_unavailable', 'The audit trail cannot be written; nothing was done.', {
      cause: error,
    })
  }

  function announce(events: readonly AuditEventRecord[]): void {
    for (const event of events) observer.auditEventRecorded(event)
  }

  return {
    async record(input) {
      let username: string | null
      try {
        username = await describeUsername(input)
      } catch (error) {
        // The lookup reads the store the event goes to: failing it is failing the write.
        throw refuse([buildRecord(input)], error)
      }
      const event = buildRecord(input, username)
      try {
        await store.appendEvents([event])
      } catch (error) {
        throw refuse([event], error)
      }
      announce([event])
    },

    async recordChange(change, describe) {
      let built: AuditEventRecord[] = []
      let changed = false
      try {
        const result = await store.appendEventsWithChange(
          async () => {
            const value = await change()
            changed = true
            return value
          },
          (value) => {
            const described = describe(value)
            built = (Array.isArray(described) ? described : [described]).map((input) => buildRecord(input))
            return built
          },
        )
        announce(built)
        return result
      } catch (error) {
        // A refusal of the change itself (a TesseraError, a programming error) passes through;
        // only a failure after the change succeeded is the audit write failing.
        if (!changed || error instanceof TypeError) throw error
        throw refuse(built, error)
      }
    },

    async queryEvents(filter, { order = 'newest_first', after, limit }) {
      const rows = await store.queryEvents(filter, { order, after, limit: limit + 1 })
      const events = rows.slice(0, limit)
      const last = events.at(-1)
      return {
        events,
        nextCursor: rows.length > limit && last ? { occurredAt: last.occurredAt, id: last.id } : null,
      }
    },

    async pruneEvents({ retentionSeconds, batchSize, maxBatches }) {
      const before = new Date(clock.now().getTime() - retentionSeconds * 1000)
      let removed = 0
      for (let batch = 0; batch < maxBatches; batch += 1) {
        const count = await store.deleteEventsBefore(before, batchSize)
        removed += count
        if (count < batchSize) break
      }
      return removed
    },
  }
}

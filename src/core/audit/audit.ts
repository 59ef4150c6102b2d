/**
 * The audit trail: one event per security fact, from the core flows only. An event that records a
 * change is written in the change's own transaction (see unit-of-work.ts); `record()` stores an
 * event that changes nothing (a refused attempt). Writing fails closed: when an event cannot be
 * stored the operation is refused with `service_unavailable`; the event is handed to the
 * observer, which puts it in the server log, so no attempt goes unseen.
 */
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import type { CoreObserver } from '../observer.ts'
import type { RequestContext } from '../request-context.ts'
import type { AccountNameLookup, AttemptedUsernames } from './attempted-username.ts'
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
  /** Stores one event that records no change; throws `service_unavailable` when it cannot. */
  record(event: AuditEventInput): Promise<void>
  /**
   * Builds the stored form of a unit of work's events (ids, instant, normalised fields). Their
   * usernames are kept as `record()` keeps them; a name on an event about no account is looked
   * up in `accounts`, the account store bound to the unit of work's transaction.
   */
  buildEvents(events: readonly AuditEventInput[], accounts: AccountNameLookup): Promise<AuditEventRecord[]>
  /** Tells the observer that events were stored (after their transaction committed). */
  announceEvents(events: readonly AuditEventRecord[]): void
  /** The refusal of an operation whose events could not be stored; the observer keeps them. */
  refuseUnrecorded(events: readonly AuditEventRecord[], error: unknown): TesseraError
  queryEvents(
    filter: AuditEventFilter,
    page: { order?: 'oldest_first' | 'newest_first'; after: AuditCursor | null; limit: number },
  ): Promise<AuditPage>
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

  /**
   * An event about an account names it; any other attempted name is looked up, in `accounts`
   * when given (a unit of work's transaction), otherwise in the account store.
   */
  async function describeUsername(input: AuditEventInput, accounts?: AccountNameLookup): Promise<string | null> {
    if (input.username == null) return null
    if (input.subjectUserId != null) return usernames.describeKnown(input.username, true)
    return usernames.describeAttempt(input.username, accounts)
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

  /** Without a lookup: the name only of the event's subject, any other as a digest (the safer form). */
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

    async buildEvents(events, accounts) {
      const described: Array<string | null> = []
      for (const input of events) {
        try {
          described.push(await describeUsername(input, accounts))
        } catch (error) {
          if (error instanceof TypeError) throw error
          // The read failed inside the transaction: the name keeps its safer form, and whether
          // anything is stored is the append's and the commit's to decide (on PostgreSQL a failed
          // read fails both, and the events reach the observer with the refusal).
          described.push(describeKnownUsername(input))
        }
      }
      // Built once every name is known, so ids and instants follow the order of the events.
      return events.map((input, index) => buildRecord(input, described[index] ?? null))
    },
    announceEvents: announce,
    refuseUnrecorded: refuse,

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

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
import { describeAttemptedUsername } from './attempted-username.ts'
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
  /** The username as the client sent it; stored normalised or escaped. */
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
  /** Builds the stored form of events (ids, instant, normalised fields), for a unit of work. */
  buildEvents(events: readonly AuditEventInput[]): AuditEventRecord[]
  /** Tells the observer that events were stored (after their transaction committed). */
  announceEvents(events: readonly AuditEventRecord[]): void
  /** The refusal of an operation whose events could not be stored; the observer keeps them. */
  refuseUnrecorded(events: readonly AuditEventRecord[], error: unknown): TesseraError
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
}): Audit {
  const { store, clock, nodeId, observer } = deps
  const createEventId = createEventIdSequence()

  function buildRecord(input: AuditEventInput): AuditEventRecord {
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
      username: input.username == null ? null : describeAttemptedUsername(input.username),
      ip: input.context.ip === '' ? null : input.context.ip,
      userAgent: input.context.userAgent === null ? null : input.context.userAgent.slice(0, maxUserAgentLength),
      sessionId: input.sessionId ?? null,
      requestId: input.context.requestId,
      nodeId,
      details,
    }
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
      const event = buildRecord(input)
      try {
        await store.appendEvents([event])
      } catch (error) {
        throw refuse([event], error)
      }
      announce([event])
    },

    buildEvents: (events) => events.map(buildRecord),
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

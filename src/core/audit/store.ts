import type { AuditEventRecord, AuditEventType, AuditOutcome } from './events.ts'

export interface AuditEventFilter {
  /** Events whose actor or subject is this user. */
  userId?: string
  types?: readonly AuditEventType[]
  outcome?: AuditOutcome
  ip?: string
  /** Normalised attempted username. */
  username?: string
  /** Inclusive lower bound. */
  since?: Date
  /** Exclusive upper bound. */
  until?: Date
}

/** A position in the `(occurredAt, id)` order; a page starts strictly after (or before) it. */
export interface AuditCursor {
  occurredAt: Date
  id: string
}

export interface AuditPageRequest {
  order: 'oldest_first' | 'newest_first'
  after: AuditCursor | null
  limit: number
}

export interface PriorEventQuery {
  subjectUserId: string
  type: AuditEventType
  outcome: AuditOutcome
  before: Date
  /** When set, only events from this address count. */
  ip?: string
}

/**
 * The append-only audit trail. Nothing here updates an event; only retention deletes them.
 */
export interface AuditStore {
  /** Appends events; their ids are unique. */
  appendEvents(events: readonly AuditEventRecord[]): Promise<void>
  /** Events matching `filter`, in the requested order, after the cursor, at most `limit`. */
  queryEvents(filter: AuditEventFilter, page: AuditPageRequest): Promise<AuditEventRecord[]>
  /** True when an event of this type and outcome concerns the user before `before`. */
  hasPriorUserEvent(query: PriorEventQuery): Promise<boolean>
  /**
   * How many events of each type and outcome occurred in [since, until), and how many attempts they
   * stand for (a summary of repeated refusals counts its `details.repeated`).
   */
  countEventsByType(since: Date, until: Date): Promise<Array<{ type: AuditEventType; outcome: AuditOutcome; count: number; attempts: number }>>
  /** Deletes at most `limit` of the oldest events that occurred before `before`; returns how many. */
  deleteEventsBefore(before: Date, limit: number): Promise<number>
}

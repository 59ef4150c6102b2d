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

/** A deleted account's names in the trail, and what replaces them. */
export interface SubjectPseudonym {
  userId: string
  /** Replaces the user id as actor and as subject; starts with `~`. */
  pseudonymousUserId: string
  usernameKey: string
  /** Replaces the username key; starts with `~`. */
  pseudonymousUsername: string
}

/**
 * The append-only audit trail. Nothing here changes what an event says; only retention deletes
 * events, and a deleted account's id and name are replaced by pseudonyms.
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
  countEventsByType(
    since: Date,
    until: Date,
  ): Promise<Array<{ type: AuditEventType; outcome: AuditOutcome; count: number; attempts: number }>>
  /**
   * Replaces the user id (as actor or subject) and the username key of every event naming them
   * by their pseudonyms; returns how many events changed.
   */
  pseudonymizeSubject(pseudonym: SubjectPseudonym): Promise<number>
  /** Deletes at most `limit` of the oldest events that occurred before `before`; returns how many. */
  deleteEventsBefore(before: Date, limit: number): Promise<number>
}

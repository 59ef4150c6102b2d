/**
 * Reading the audit trail and the alerts of the security review (admins), a user's own events,
 * and recording refused requests that the HTTP layer sees (a missing role, a cross-site request).
 */
import type { AlertPage, Alerts } from '../alerts/alerts.ts'
import type { AlertCursor } from '../alerts/store.ts'
import type { Audit, AuditEventInput, AuditPage } from '../audit/audit.ts'
import type { RefusalSummaries } from '../audit/refusal-summaries.ts'
import type { AuditCursor, AuditEventFilter } from '../audit/store.ts'

export interface AuditTrailOperations {
  queryEvents(filter: AuditEventFilter, page: { order?: 'oldest_first' | 'newest_first'; after: AuditCursor | null; limit: number }): Promise<AuditPage>
  /** Events that concern the user, newest first. */
  queryUserEvents(userId: string, page: { after: AuditCursor | null; limit: number }): Promise<AuditPage>
  listAlerts(options: { since: Date | null; rule: string | null; after: AlertCursor | null; limit: number }): Promise<AlertPage>
  /**
   * Records a refused request (`access_denied`), counted per kind and window (anyone can repeat it
   * at full speed); throws `service_unavailable` when it cannot.
   */
  recordAccessDenied(event: Omit<AuditEventInput, 'type' | 'outcome'>): Promise<void>
}

export function createAuditTrailOperations(deps: { audit: Audit; alerts: Alerts; refusals: RefusalSummaries }): AuditTrailOperations {
  const { audit, alerts, refusals } = deps
  return {
    queryEvents: (filter, page) => audit.queryEvents(filter, page),
    queryUserEvents: (userId, page) => audit.queryEvents({ userId }, page),
    listAlerts: (options) => alerts.listAlerts(options),
    recordAccessDenied: (event) => refusals.recordRefusal({ ...event, type: 'access_denied', outcome: 'failure' }),
  }
}

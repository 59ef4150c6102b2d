/**
 * Reading the audit trail and the alerts of the security review (admins), a user's own events,
 * and recording refused requests that the HTTP layer sees (a missing role, a cross-site request).
 */
import type { AlertPage, Alerts } from '../alerts/alerts.ts'
import type { AlertCursor } from '../alerts/store.ts'
import type { Audit, AuditEventInput, AuditPage } from '../audit/audit.ts'
import type { RefusalSummaries } from '../audit/refusal-summaries.ts'
import type { AuditCursor, AuditEventFilter, AuditStore } from '../audit/store.ts'
import type { Clock } from '../clock.ts'

/** Failed sign-ins of one hour: wrong credentials, and attempts the throttle refused. */
export interface FailedSignInHour {
  startsAt: Date
  failed: number
  throttled: number
}

export interface AuditTrailOperations {
  queryEvents(
    filter: AuditEventFilter,
    page: { order?: 'oldest_first' | 'newest_first'; after: AuditCursor | null; limit: number },
  ): Promise<AuditPage>
  /** Events that concern the user, newest first. */
  queryUserEvents(userId: string, page: { after: AuditCursor | null; limit: number }): Promise<AuditPage>
  listAlerts(options: {
    since: Date | null
    rule: string | null
    after: AlertCursor | null
    limit: number
  }): Promise<AlertPage>
  /**
   * Records a refused request (`access_denied`), counted per kind and window (anyone can repeat it
   * at full speed); throws `service_unavailable` when it cannot.
   */
  recordAccessDenied(event: Omit<AuditEventInput, 'type' | 'outcome'>): Promise<void>
  /**
   * Failed sign-ins per hour over the last `hours` hours, oldest first; the last hour is the one
   * running now. Counted by the store (one aggregate per hour), so a flood costs no more to show.
   */
  countFailedSignInsPerHour(hours: number): Promise<FailedSignInHour[]>
}

const hourMs = 3_600_000

export function createAuditTrailOperations(deps: {
  audit: Audit
  alerts: Alerts
  refusals: RefusalSummaries
  auditStore: Pick<AuditStore, 'countEventsByType'>
  clock: Clock
}): AuditTrailOperations {
  const { audit, alerts, refusals, auditStore, clock } = deps
  return {
    queryEvents: (filter, page) => audit.queryEvents(filter, page),
    queryUserEvents: (userId, page) => audit.queryEvents({ userId }, page),
    listAlerts: (options) => alerts.listAlerts(options),
    recordAccessDenied: (event) => refusals.recordRefusal({ ...event, type: 'access_denied', outcome: 'failure' }),

    async countFailedSignInsPerHour(hours) {
      if (!Number.isInteger(hours) || hours < 1 || hours > 168) throw new TypeError('hours must be 1 to 168')
      const currentHourStart = Math.floor(clock.now().getTime() / hourMs) * hourMs
      const starts = Array.from(
        { length: hours },
        (_, index) => new Date(currentHourStart - (hours - 1 - index) * hourMs),
      )
      const result: FailedSignInHour[] = []
      // One after the other: a page view must not take a whole connection pool.
      for (const startsAt of starts) {
        const counts = await auditStore.countEventsByType(startsAt, new Date(startsAt.getTime() + hourMs))
        const countOf = (type: string) =>
          counts
            .filter((row) => row.type === type && row.outcome === 'failure')
            .reduce((sum, row) => sum + row.attempts, 0)
        result.push({ startsAt, failed: countOf('login_failed'), throttled: countOf('login_throttled') })
      }
      return result
    },
  }
}

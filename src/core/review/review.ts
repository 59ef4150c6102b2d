/**
 * The scheduled security review. The fast review looks at a sliding window (default 15 min)
 * every few minutes and turns each finding of the detection rules into an alert; the daily
 * report summarises the day before the time it runs (23:00 by default, as in the seed design
 * that reviewed its login log every night). Both read only the audit trail, so they work the
 * same on events recorded by any node.
 */
import type { Alerts } from '../alerts/alerts.ts'
import type { AlertRecord } from '../alerts/store.ts'
import type { AuditEventRecord, AuditEventType } from '../audit/events.ts'
import type { AuditCursor, AuditStore } from '../audit/store.ts'
import { detectAdminRoleGrants, detectRefreshTokenReuse } from './event-rules.ts'
import { buildEvidence, groupBy, type Finding } from './evidence.ts'
import {
  detectAccountAttacks,
  detectPasswordSpraying,
  detectSpreadStuffing,
  detectSuccessAfterFailures,
  isFailedAttempt,
  type LoginRuleSettings,
} from './login-rules.ts'

export interface ReviewSettings {
  windowSeconds: number
  rules: LoginRuleSettings
}

export interface ReviewOutcome {
  windowStartsAt: Date
  windowEndsAt: Date
  eventsReviewed: number
  /** True when the window held more events than one review reads (the rest was not seen). */
  isTruncated: boolean
  findings: Finding[]
  /** New alerts; findings that repeat a recent alert raise none. */
  alerts: AlertRecord[]
}

export interface SecurityReview {
  /** Runs every detection rule over the window that ends at `at`. */
  runReview(at: Date): Promise<ReviewOutcome>
  /** Summarises the 24 hours before `at` as a `daily_report` alert (null if already made). */
  runDailyReport(at: Date): Promise<AlertRecord | null>
}

const reviewedTypes: readonly AuditEventType[] = [
  'login_failed',
  'login_throttled',
  'login_succeeded',
  'refresh_token_reused',
  'role_granted',
  'user_created',
  'user_imported',
]
const pageSize = 2000
const maxEventsPerReview = 200_000
const dayMs = 86_400_000

export function createSecurityReview(deps: {
  auditStore: AuditStore
  alerts: Alerts
  settings: ReviewSettings
}): SecurityReview {
  const { auditStore, alerts, settings } = deps

  async function readWindow(since: Date, until: Date, types: readonly AuditEventType[]) {
    const events: AuditEventRecord[] = []
    let after: AuditCursor | null = null
    for (;;) {
      const page = await auditStore.queryEvents(
        { since, until, types },
        { order: 'oldest_first', after, limit: pageSize },
      )
      events.push(...page)
      const last = page.at(-1)
      if (page.length < pageSize || !last) return { events, isTruncated: false }
      if (events.length >= maxEventsPerReview) return { events, isTruncated: true }
      after = { occurredAt: last.occurredAt, id: last.id }
    }
  }

  /** A success from an address the user never signed in from before, for a user with a history. */
  async function detectNewIpLogins(events: readonly AuditEventRecord[]): Promise<Finding[]> {
    const findings: Finding[] = []
    const successes = events.filter((event) => event.type === 'login_succeeded' && event.subjectUserId !== null)
    for (const [, pair] of groupBy(successes, (event) =>
      event.ip === null ? null : `${event.subjectUserId}\n${event.ip}`,
    )) {
      const first = pair[0]
      if (!first?.subjectUserId || first.ip === null) continue
      const query = {
        subjectUserId: first.subjectUserId,
        type: 'login_succeeded' as const,
        outcome: 'success' as const,
        before: first.occurredAt,
      }
      if (!(await auditStore.hasPriorUserEvent(query))) continue
      if (await auditStore.hasPriorUserEvent({ ...query, ip: first.ip })) continue
      findings.push({
        rule: 'new_ip_login',
        severity: 'low',
        dedupeKey: `new_ip_login:user:${first.subjectUserId}:${first.ip}`,
        summary: `User ${first.subjectUserId} signed in from ${first.ip}, an address not seen for this user before`,
        evidence: buildEvidence(pair, { logins: pair.length }),
      })
    }
    return findings
  }

  return {
    async runReview(at) {
      const windowStartsAt = new Date(at.getTime() - settings.windowSeconds * 1000)
      // The window includes its end: an event recorded at the very instant of the run counts.
      const { events, isTruncated } = await readWindow(windowStartsAt, new Date(at.getTime() + 1), reviewedTypes)
      const findings = [
        ...detectAccountAttacks(events, settings.rules, settings.windowSeconds),
        ...detectPasswordSpraying(events, settings.rules, settings.windowSeconds),
        ...detectSpreadStuffing(events, settings.rules, settings.windowSeconds),
        ...detectSuccessAfterFailures(events, settings.rules),
        ...detectRefreshTokenReuse(events),
        ...detectAdminRoleGrants(events),
        ...(await detectNewIpLogins(events)),
      ]
      const raised: AlertRecord[] = []
      for (const finding of findings) {
        const alert = await alerts.raiseAlert(finding, { startsAt: windowStartsAt, endsAt: at })
        if (alert) raised.push(alert)
      }
      return { windowStartsAt, windowEndsAt: at, eventsReviewed: events.length, isTruncated, findings, alerts: raised }
    },

    async runDailyReport(at) {
      const since = new Date(at.getTime() - dayMs)
      const counts: Record<string, number> = {}
      for (const { type, outcome, attempts } of await auditStore.countEventsByType(since, at)) {
        counts[type === 'login_succeeded' || type === 'login_failed' ? type : `${type}_${outcome}`] = attempts
      }
      const raisedToday = await alerts.listAlerts({ since, rule: null, after: null, limit: 1000 })
      for (const alert of raisedToday.alerts) {
        if (alert.rule !== 'daily_report') counts[`alerts_${alert.rule}`] = (counts[`alerts_${alert.rule}`] ?? 0) + 1
      }
      const { events } = await readWindow(since, at, ['login_failed', 'login_throttled'])
      const failures = events.filter(isFailedAttempt)
      const evidence =
        failures.length > 0
          ? buildEvidence(failures, counts)
          : {
              counts,
              ips: [],
              usernames: [],
              userIds: [],
              sessionIds: [],
              eventIds: [],
              firstSeenAt: since,
              lastSeenAt: at,
            }
      const day = since.toISOString().slice(0, 10)
      const alertCount = raisedToday.alerts.filter((alert) => alert.rule !== 'daily_report').length
      return alerts.storeReport({
        rule: 'daily_report',
        severity: 'info',
        dedupeKey: `daily_report:${at.toISOString()}`,
        summary: `Security report for the 24 h to ${at.toISOString()}: ${counts.login_succeeded ?? 0} sign-ins, ${counts.login_failed ?? 0} failed sign-ins, ${alertCount} alerts (since ${day})`,
        evidence,
        windowStartsAt: since,
        windowEndsAt: at,
      })
    },
  }
}

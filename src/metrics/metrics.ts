/**
 * Prometheus metrics through prom-client, one registry per server. Counters about security
 * events are fed from the audit trail itself (an event that was not recorded is not counted), so
 * the metrics and the trail never disagree; issue-specific events such as `login_throttled` move
 * their counters as soon as a flow records them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { AlertRecord } from '../core/alerts/store.ts'
import type { AuditEventRecord } from '../core/audit/events.ts'
import type { CoreObserver } from '../core/observer.ts'

export interface Metrics {
  registry: Registry
  /** Feeds the metrics from what the core reports. */
  observer: CoreObserver
  /** Records one HTTP request; `route` is the route pattern, never the raw URL. */
  observeHttpRequest(labels: { method: string; route: string; statusCode: number }, seconds: number): void
  /** Where the active-sessions gauge reads its value at scrape time. */
  countActiveSessionsWith(count: () => Promise<number>): void
}

interface HistogramSeries {
  observe(seconds: number): void
}

export function createMetrics(): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'tessera_process_' })
  const registers = [registry]
  // No reason label: an unknown user, a wrong password and a disabled account are one answer on
  // the wire (EN-01), and must stay one to whoever can scrape. The audit trail keeps the reason.
  const logins = new Counter({
    name: 'tessera_logins_total',
    help: 'Sign-in attempts by outcome (success, failure, throttled).',
    labelNames: ['outcome'],
    registers,
  })
  const registrations = new Counter({
    name: 'tessera_registrations_total',
    help: 'Self-service registrations by outcome.',
    labelNames: ['outcome'],
    registers,
  })
  const refreshes = new Counter({
    name: 'tessera_token_refreshes_total',
    help: 'Refresh-token exchanges by outcome (success, failure, reused).',
    labelNames: ['outcome'],
    registers,
  })
  const reuses = new Counter({
    name: 'tessera_refresh_token_reuse_detections_total',
    help: 'Replaced refresh tokens presented again (the session was ended).',
    registers,
  })
  const throttled = new Counter({
    name: 'tessera_throttled_requests_total',
    help: 'Requests refused by throttling or lock-out, by reason.',
    labelNames: ['reason'],
    registers,
  })
  const events = new Counter({
    name: 'tessera_audit_events_total',
    help: 'Audit events recorded, by type and outcome.',
    labelNames: ['type', 'outcome'],
    registers,
  })
  const auditFailures = new Counter({
    name: 'tessera_audit_write_failures_total',
    help: 'Operations refused because their audit events could not be stored.',
    registers,
  })
  const alerts = new Counter({
    name: 'tessera_alerts_raised_total',
    help: 'Alerts raised by the security review, by rule and severity.',
    labelNames: ['rule', 'severity'],
    registers,
  })
  const hashDuration = new Histogram({
    name: 'tessera_password_hash_duration_seconds',
    help: 'Wall time of one password hash or verification (queueing excluded).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  })
  const httpDuration = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  })
  const httpSeries = new Map<string, Map<string, Map<number, HistogramSeries>>>()
  let countActiveSessions: () => Promise<number> = async () => 0
  new Gauge({
    name: 'tessera_active_sessions',
    help: 'Sessions neither idle-expired nor past their absolute timeout (read from the store at scrape time).',
    registers,
    async collect() {
      this.set(await countActiveSessions())
    },
  })

  function countEvent(event: AuditEventRecord): void {
    events.inc({ type: event.type, outcome: event.outcome })
    switch (event.type) {
      case 'login_succeeded':
        logins.inc({ outcome: 'success' })
        break
      case 'login_failed':
        logins.inc({ outcome: 'failure' })
        break
      case 'login_throttled':
        logins.inc({ outcome: 'throttled' })
        throttled.inc({ reason: event.reason ?? 'none' })
        break
      case 'user_registered':
      case 'registration_failed':
        registrations.inc({ outcome: event.outcome })
        break
      case 'token_refreshed':
      case 'token_refresh_failed':
        refreshes.inc({ outcome: event.outcome })
        break
      case 'refresh_token_reused':
        refreshes.inc({ outcome: 'reused' })
        reuses.inc()
        break
      default:
        break
    }
  }

  return {
    registry,
    observer: {
      auditEventRecorded: countEvent,
      auditWriteFailed: () => auditFailures.inc(),
      passwordHashTimed: (seconds) => hashDuration.observe(seconds),
      alertRaised: (alert: AlertRecord) => alerts.inc({ rule: alert.rule, severity: alert.severity }),
    },
    observeHttpRequest({ method, route, statusCode }, seconds) {
      // prom-client hashes the label set on every observation; the few series a server has are kept.
      let byStatus = httpSeries.get(route)?.get(method)
      if (byStatus === undefined) {
        const byMethod = httpSeries.get(route) ?? new Map<string, Map<number, HistogramSeries>>()
        byStatus = new Map()
        byMethod.set(method, byStatus)
        httpSeries.set(route, byMethod)
      }
      let series = byStatus.get(statusCode)
      if (series === undefined) {
        series = httpDuration.labels({ method, route, status_code: String(statusCode) })
        byStatus.set(statusCode, series)
      }
      series.observe(seconds)
    },
    countActiveSessionsWith(count) {
      countActiveSessions = count
    },
  }
}

/**
 * What the core reports to whoever watches it (metrics, the server log), without knowing who
 * that is. Every method is synchronous and must not throw: observing never changes an outcome.
 */
import type { AlertRecord } from './alerts/store.ts'
import type { AuditEventRecord } from './audit/events.ts'

export interface CoreObserver {
  /** An event was stored (after its transaction committed). */
  auditEventRecorded(event: AuditEventRecord): void
  /**
   * Events could not be stored: the operation was refused. The events themselves are passed
   * on so the server log keeps them (they hold no secret).
   */
  auditWriteFailed(events: readonly AuditEventRecord[], error: unknown): void
  /** One password hash or verification finished, in seconds of wall time. */
  passwordHashTimed(seconds: number): void
  alertRaised(alert: AlertRecord): void
}

export const silentObserver: CoreObserver = {
  auditEventRecorded() {},
  auditWriteFailed() {},
  passwordHashTimed() {},
  alertRaised() {},
}

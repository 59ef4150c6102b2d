/**
 * The core observer of a running server: metrics, plus the server log for audit writes that
 * failed. Those events are the durable fallback of a refused operation, so they are logged in
 * full (they hold no secret) at level error.
 */
import type { CoreObserver } from '../core/observer.ts'

export interface LogSink {
  error(object: Record<string, unknown>, message: string): void
}

export interface ServerObserver extends CoreObserver {
  /** The log to use from now on (the app's logger exists only after the core). */
  attachLog(log: LogSink): void
}

export function createServerObserver(metrics: CoreObserver, initialLog: LogSink): ServerObserver {
  let log = initialLog
  return {
    ...metrics,
    auditWriteFailed(events, error) {
      metrics.auditWriteFailed(events, error)
      for (const event of events) log.error({ auditEvent: event, err: error }, 'audit write failed; operation refused')
    },
    attachLog(next) {
      log = next
    },
  }
}

/** Until the server log exists: one JSON line on stderr. */
export const stderrLog: LogSink = {
  error(object, message) {
    process.stderr.write(`${JSON.stringify({ level: 50, msg: message, ...object, err: String(object.err) })}\n`)
  },
}

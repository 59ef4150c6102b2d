/**
 * Where a call into the core comes from, as the audit trail records it. The HTTP layer builds
 * one per request; offline callers (the CLI, the scheduler, start-up) describe themselves.
 */
export interface RequestContext {
  /** The client address as the HTTP layer determined it; null outside a request. */
  ip: string | null
  /** Bounded and stripped of control characters by the caller; null when there is none. */
  userAgent: string | null
  /** The request id that also names the request in the server log; null outside a request. */
  requestId: string | null
}

/** The context of work that no HTTP request started, named after the tool doing it. */
export function createOfflineContext(tool: 'cli' | 'scheduler' | 'startup'): RequestContext {
  return { ip: null, userAgent: `tessera-${tool}`, requestId: null }
}

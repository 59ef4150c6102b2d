/**
 * Puts the token-lifecycle events (revocations, key rotations, service clients) into the audit
 * trail, and still hands each to `also` (tests and the server log listen there). Refresh-token
 * reuse is audited by the sessions module itself, with the request that presented the token.
 */
import { createOfflineContext } from '../request-context.ts'
import type { RecordTokenEvent, TokenEvent } from '../tokens/token-events.ts'
import type { Audit, AuditEventInput } from './audit.ts'

function describeTokenEvent(event: TokenEvent): AuditEventInput | null {
  const context = createOfflineContext('startup')
  switch (event.type) {
    case 'refresh_token_reused':
      return null
    case 'token_revoked':
      return {
        type: 'token_revoked',
        outcome: 'success',
        subjectUserId: event.userId,
        sessionId: event.sessionId,
        details: { token_type: event.tokenType, client_id: event.clientId },
        context: { ...context, userAgent: null },
      }
    case 'signing_key_rotated':
      return {
        type: 'key_rotated',
        outcome: 'success',
        details: {
          kid: event.kid,
          algorithm: event.algorithm,
          activates_at: event.activatesAt.toISOString(),
          emergency: event.emergency,
        },
        context: { ...context, userAgent: null },
      }
    case 'service_client_created':
    case 'service_client_deleted':
      return {
        type: event.type === 'service_client_created' ? 'client_created' : 'client_deleted',
        outcome: 'success',
        details: { client_id: event.clientId, name: event.name },
        context: { ...context, userAgent: null },
      }
  }
}

export function createAuditedTokenEvents(audit: Audit, also: RecordTokenEvent): RecordTokenEvent {
  return (event) => {
    also(event)
    const described = describeTokenEvent(event)
    // The event has already happened; a failed write is reported by the audit module itself
    // (observer and error log), so nothing is lost silently.
    if (described) audit.record(described).catch(() => {})
  }
}

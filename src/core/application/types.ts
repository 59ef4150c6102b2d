/**
 * What HTTP routes and CLI commands may know of the core besides the operations themselves: the
 * shapes of the records the operations return, the closed vocabularies they validate input
 * against, and a few limits. Nothing here reaches a store or changes state; the architecture test
 * allows the edge to import from `src/core/application/` (and errors and secrets) only.
 */
export type { UserRecord } from '../accounts/store.ts'
export type { ImportEntry, ImportResult } from '../accounts/import-users.ts'
export { maxImportBatch } from '../accounts/import-users.ts'
export { defaultRoles } from '../accounts/accounts.ts'
export type { AlertRecord, AlertCursor } from '../alerts/store.ts'
export { describeAlertForWebhook } from '../alerts/webhook-delivery.ts'
export type { AuditEventInput, AuditPage } from '../audit/audit.ts'
export type { AuditEventRecord, AuditEventType, AuditOutcome } from '../audit/events.ts'
export { auditEventTypes, auditOutcomes, auditReasons, isAuditEventType, isAuditOutcome } from '../audit/events.ts'
export type { AuditCursor, AuditEventFilter } from '../audit/store.ts'
export type { ServiceClientRecord } from '../clients/store.ts'
export type { RequestContext } from '../request-context.ts'
export { createOfflineContext } from '../request-context.ts'
export type { SessionRecord, SessionTransport } from '../sessions/store.ts'
export { computeSessionEndsAt } from '../sessions/session-lifetime.ts'
export { isGuest } from '../devices/store.ts'
export type { DeviceRecord } from '../devices/store.ts'
export type { RequestAttempt, RequestKind } from '../throttle/request-throttle.ts'
export type { Introspection, TokenType } from '../tokens/introspection.ts'
export type { PublicJwk, SigningKeyView } from '../tokens/signing-keys.ts'
export type { SigningAlgorithm } from '../tokens/store.ts'
export { signingAlgorithms } from '../tokens/store.ts'

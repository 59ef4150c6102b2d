/**
 * The closed vocabulary of the audit trail. Types, outcomes and reasons are literal unions, so
 * nothing a client sends can become an event type or a reason, and detection rules can rely on
 * the names. A name is a contract (exports, alert rules and SIEM queries read it): never rename
 * one; add new ones at the end of their group.
 */
export const auditEventTypes = [
  // Accounts
  'user_registered',
  'registration_failed',
  'user_created',
  'user_imported',
  'user_disabled',
  'user_enabled',
  'user_deleted',
  'password_changed',
  'password_change_failed',
  'role_granted',
  'role_revoked',
  'password_set',
  'password_change_required',
  'admin_change_refused',
  // Sign-in
  'login_succeeded',
  'login_failed',
  'login_throttled',
  'account_locked',
  'account_unlocked',
  // Sessions and tokens
  'logged_out',
  'session_revoked',
  'session_expired',
  'token_refreshed',
  'token_refresh_failed',
  'refresh_token_reused',
  'token_revoked',
  'token_introspected',
  'access_token_issued',
  'session_started',
  'user_sessions_ended',
  // Keys and service clients
  'key_rotated',
  'key_retired',
  'client_created',
  'client_deleted',
  'client_authentication_failed',
  // Authorization
  'access_denied',
  // Second factor
  'mfa_enrolment_started',
  'mfa_enrolled',
  'mfa_disabled',
  'mfa_reset',
  'mfa_challenge_issued',
  'mfa_failed',
  'recovery_code_used',
  'recovery_codes_regenerated',
  'reauthenticated',
  'reauthentication_failed',
  'passkey_registered',
  'passkey_renamed',
  'passkey_removed',
  'passkey_failed',
] as const

export type AuditEventType = (typeof auditEventTypes)[number]

export const auditOutcomes = ['success', 'failure'] as const

export type AuditOutcome = (typeof auditOutcomes)[number]

/**
 * Internal reasons. They may tell apart what the client answer deliberately does not (an
 * unknown user and a wrong password are both `invalid_credentials` on the wire).
 */
export const auditReasons = [
  'unknown_user',
  'bad_password',
  'account_disabled',
  'invalid_input',
  'account_locked',
  'ip_throttled',
  'account_throttled',
  'username_taken',
  'password_rejected',
  'unknown_token',
  'expired',
  'idle_timeout',
  'absolute_timeout',
  'reused',
  'logout',
  'revoked_by_user',
  'revoked_by_admin',
  'password_changed',
  'missing_role',
  'cross_site',
  'admin_action',
  'lockout_expired',
  'rotation',
  'unusable_password_hash',
  'bad_code',
  'code_replayed',
  'challenge_invalid',
  'mfa_enrolment_required',
  'passkey_rejected',
  'counter_regressed',
  'self_service',
  'last_admin',
] as const

export type AuditReason = (typeof auditReasons)[number]

/** Extra facts of an event: flat, small, and never a secret (see `assertSafeDetails`). */
export type AuditDetails = Readonly<Record<string, string | number | boolean | null>>

export interface AuditEventRecord {
  /** Time-ordered UUID (version 7). */
  id: string
  occurredAt: Date
  type: AuditEventType
  outcome: AuditOutcome
  reason: AuditReason | null
  /** Who did it (null when anonymous or offline). */
  actorUserId: string | null
  /** Whose account it concerns. */
  subjectUserId: string | null
  /** The attempted username: an account's normalised key, or `~` and a keyed digest (attempted-username.ts). */
  username: string | null
  ip: string | null
  userAgent: string | null
  /** The public session handle, never a token. */
  sessionId: string | null
  requestId: string | null
  /** The Tessera node that recorded it. */
  nodeId: string
  details: AuditDetails
}

export function isAuditEventType(value: string): value is AuditEventType {
  return (auditEventTypes as readonly string[]).includes(value)
}

export function isAuditOutcome(value: string): value is AuditOutcome {
  return (auditOutcomes as readonly string[]).includes(value)
}

// Keys that name a secret. A detail under such a key is refused outright: the audit trail is
// read by more people than the credentials were meant for (ASVS 16.2.5).
const secretKeyPattern = /pass(word|phrase)?|secret|token|cookie|authori[sz]ation|hash|private|credential|^d$|^jwk/i
const maxDetailKeys = 16
const maxDetailTextLength = 256

/** Throws TypeError (a programming error, never a client's) when details could carry a secret. */
export function assertSafeDetails(details: AuditDetails): void {
  const entries = Object.entries(details)
  if (entries.length > maxDetailKeys) throw new TypeError('audit details: too many keys')
  for (const [key, value] of entries) {
    if (secretKeyPattern.test(key)) throw new TypeError(`audit details: "${key}" names a secret`)
    if (typeof value === 'string' && value.length > maxDetailTextLength) {
      throw new TypeError(`audit details: "${key}" is too long`)
    }
  }
}

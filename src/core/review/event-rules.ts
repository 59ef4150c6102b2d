/**
 * Rules where a single event is the finding: a replayed refresh token (someone else holds a
 * copy of it) and a grant of the admin role (the change an intruder makes first).
 */
import type { AuditEventRecord } from '../audit/events.ts'
import { buildEvidence, type Finding } from './evidence.ts'

export function detectRefreshTokenReuse(events: readonly AuditEventRecord[]): Finding[] {
  return events
    .filter((event) => event.type === 'refresh_token_reused')
    .map((event) => ({
      rule: 'refresh_token_reuse' as const,
      severity: 'high' as const,
      dedupeKey: `refresh_token_reuse:session:${event.sessionId ?? event.id}`,
      summary: `A replaced refresh token of session ${event.sessionId ?? '(unknown)'} was presented again from ${event.ip ?? 'an unknown address'}; the session was ended`,
      evidence: buildEvidence([event], { reuses: 1 }),
    }))
}

function grantsAdmin(event: AuditEventRecord): boolean {
  if (event.type === 'role_granted') return event.details.role === 'admin'
  if (event.type === 'user_created' || event.type === 'user_imported') {
    const roles = event.details.roles
    return typeof roles === 'string' && roles.split(',').includes('admin')
  }
  return false
}

export function detectAdminRoleGrants(events: readonly AuditEventRecord[]): Finding[] {
  return events.filter(grantsAdmin).map((event) => ({
    rule: 'admin_role_granted' as const,
    severity: 'medium' as const,
    dedupeKey: `admin_role_granted:user:${event.subjectUserId ?? event.id}`,
    summary: `The admin role was given to user ${event.subjectUserId ?? '(unknown)'} by ${event.actorUserId ?? 'an offline operator'}`,
    evidence: buildEvidence([event], { grants: 1 }),
  }))
}

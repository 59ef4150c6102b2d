/** Builds the evidence of a finding from the events behind it, bounded so an alert stays small. */
import type { AlertEvidence, AlertSeverity } from '../alerts/store.ts'
import type { AuditEventRecord } from '../audit/events.ts'

export interface Finding {
  rule: DetectionRule
  severity: AlertSeverity
  /** The rule plus its subject (an account, an address, a session). */
  dedupeKey: string
  summary: string
  evidence: AlertEvidence
}

export const detectionRules = [
  'brute_force',
  'password_spraying',
  'credential_stuffing',
  'success_after_failures',
  'refresh_token_reuse',
  'admin_role_granted',
  'new_ip_login',
] as const

export type DetectionRule = (typeof detectionRules)[number]

const maxListed = { ips: 20, usernames: 50, userIds: 20, sessionIds: 20, eventIds: 20 }

/** Distinct non-null values, the most frequent first (ties: first seen first). */
function rankByFrequency(values: ReadonlyArray<string | null>, limit: number): string[] {
  const counts = new Map<string, number>()
  for (const value of values) if (value !== null) counts.set(value, (counts.get(value) ?? 0) + 1)
  return [...counts.entries()]
    .sort((left, right) => right[1] - left[1])
    .slice(0, limit)
    .map(([value]) => value)
}

export function countDistinct(values: ReadonlyArray<string | null>): number {
  return new Set(values.filter((value) => value !== null)).size
}

export function buildEvidence(events: readonly AuditEventRecord[], counts: Record<string, number>): AlertEvidence {
  const times = events.map((event) => event.occurredAt.getTime())
  return {
    counts,
    ips: rankByFrequency(
      events.map((event) => event.ip),
      maxListed.ips,
    ),
    usernames: rankByFrequency(
      events.map((event) => event.username),
      maxListed.usernames,
    ),
    userIds: rankByFrequency(
      events.map((event) => event.subjectUserId),
      maxListed.userIds,
    ),
    sessionIds: rankByFrequency(
      events.map((event) => event.sessionId),
      maxListed.sessionIds,
    ),
    eventIds: events.slice(0, maxListed.eventIds).map((event) => event.id),
    firstSeenAt: new Date(Math.min(...times)),
    lastSeenAt: new Date(Math.max(...times)),
  }
}

/** Groups events by a key; events whose key is null are left out. */
export function groupBy(
  events: readonly AuditEventRecord[],
  keyOf: (event: AuditEventRecord) => string | null,
): Map<string, AuditEventRecord[]> {
  const groups = new Map<string, AuditEventRecord[]>()
  for (const event of events) {
    const key = keyOf(event)
    if (key === null) continue
    const group = groups.get(key)
    if (group) group.push(event)
    else groups.set(key, [event])
  }
  return groups
}

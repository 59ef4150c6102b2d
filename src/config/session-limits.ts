/** Reads TESSERA_SESSION_LIMITS: `role:N` or `role:N:policy`, comma-separated. */
import type { SessionLimit, SessionLimitPolicy } from '../core/sessions/store.ts'

const entryPattern = /^([A-Za-z0-9_.-]{1,64}):(\d{1,6})(?::(end_oldest|refuse))?$/

export function readSessionLimits(entries: readonly string[], problems: string[]): Record<string, SessionLimit> {
  const limits: Record<string, SessionLimit> = {}
  for (const entry of entries) {
    const match = entryPattern.exec(entry)
    const [, role, count, policy] = match ?? []
    if (role === undefined || count === undefined || Number(count) < 1 || Object.hasOwn(limits, role)) {
      problems.push(
        `TESSERA_SESSION_LIMITS: "${entry}" is not role:N or role:N:end_oldest|refuse with N at least 1, each role once`,
      )
      continue
    }
    limits[role] = { maxSessions: Number(count), onFull: (policy ?? 'end_oldest') as SessionLimitPolicy }
  }
  return limits
}

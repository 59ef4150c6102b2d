/**
 * Refused attempts that anyone can send at full speed (a cross-site cookie request, a sign-in
 * while throttled, a wrong service-client secret) would otherwise let one client grow the audit
 * trail without bound, and with it the file that also holds the accounts. They are recorded per
 * kind and window instead:
 *
 * - the first refusal of a kind in a window is written at once, as it happened;
 * - the others of that window are counted, and written as one event with `repeated: n` when the
 *   window is over (at the next refusal of the kind, or by the periodic flush);
 * - a kind is its type, reason, client network, actor, subject, attempted name and route; one
 *   network has at most `maxKindsPerNetwork` kinds of each type in a window (more, and the names
 *   are left out: the excess counts under one kind for the whole network), and the node keeps at
 *   most `maxKinds` kinds in memory.
 *
 * So one client adds at most 2 × (maxKindsPerNetwork + 1) rows per event type and window, however
 * fast it sends. The review weighs each event by its count (see `countAttempts`).
 */
import type { Clock } from '../clock.ts'
import { describeClientNetwork } from '../throttle/client-network.ts'
import type { Audit, AuditEventInput } from './audit.ts'
import type { AuditEventRecord } from './events.ts'

export interface RefusalSummaries {
  /** Records a refused attempt as described above; throws `service_unavailable` like `record()`. */
  recordRefusal(event: AuditEventInput): Promise<void>
  /** Writes the counts of windows that are over; returns how many events it wrote. */
  flushRefusals(): Promise<number>
}

export interface RefusalSummarySettings {
  windowSeconds: number
  maxKindsPerNetwork: number
  maxKinds: number
}

interface Pending {
  /** The first refusal of the window, whose fields the summary repeats. */
  first: AuditEventInput
  startedAtMs: number
  repeated: number
}

/** How many attempts an audit event stands for: 1, or more for a summary of refusals. */
export function countAttempts(event: AuditEventRecord): number {
  const repeated = event.details.repeated
  return typeof repeated === 'number' && repeated > 0 ? repeated : 1
}

function describeKind(event: AuditEventInput, network: string, withNames: boolean): string {
  const route = typeof event.details?.route === 'string' ? event.details.route : ''
  const names = withNames ? [event.actorUserId ?? '', event.subjectUserId ?? '', event.username ?? ''] : ['*', '*', '*']
  return JSON.stringify([event.type, event.reason ?? '', network, route, ...names])
}

export function createRefusalSummaries(deps: {
  audit: Audit
  clock: Clock
  settings: RefusalSummarySettings
}): RefusalSummaries {
  const { audit, clock, settings } = deps
  const windowMs = settings.windowSeconds * 1000
  const pending = new Map<string, Pending>()
  // Kinds with names per network and type in the current windows, to bound a client that varies them.
  const namedKinds = new Map<string, Set<string>>()

  function summarize({ first, repeated }: Pending): AuditEventInput {
    return {
      ...first,
      details: { ...first.details, repeated, window_seconds: settings.windowSeconds },
      // Many requests: none of their ids names the summary.
      context: { ...first.context, requestId: null },
    }
  }

  function forget(kind: string, entry: Pending): void {
    pending.delete(kind)
    const network = describeClientNetwork(entry.first.context.ip ?? '')
    const kinds = namedKinds.get(`${entry.first.type}|${network}`)
    kinds?.delete(kind)
    if (kinds?.size === 0) namedKinds.delete(`${entry.first.type}|${network}`)
  }

  /** The kind a refusal counts under: with its names, unless its network has used up its kinds. */
  function chooseKind(event: AuditEventInput, network: string): string {
    const named = describeKind(event, network, true)
    if (pending.has(named)) return named
    const scope = `${event.type}|${network}`
    const kinds = namedKinds.get(scope) ?? new Set<string>()
    if (kinds.size >= settings.maxKindsPerNetwork || pending.size >= settings.maxKinds) {
      return describeKind(event, pending.size >= settings.maxKinds ? '*' : network, false)
    }
    kinds.add(named)
    namedKinds.set(scope, kinds)
    return named
  }

  async function flushEnded(nowMs: number): Promise<number> {
    let written = 0
    for (const [kind, entry] of pending) {
      if (nowMs - entry.startedAtMs < windowMs) continue
      forget(kind, entry)
      if (entry.repeated > 0) {
        await audit.record(summarize(entry))
        written += 1
      }
    }
    return written
  }

  return {
    async recordRefusal(event) {
      const nowMs = clock.now().getTime()
      const network = describeClientNetwork(event.context.ip ?? '')
      let kind = chooseKind(event, network)
      const current = pending.get(kind)
      if (current && nowMs - current.startedAtMs >= windowMs) {
        forget(kind, current)
        if (current.repeated > 0) await audit.record(summarize(current))
        kind = chooseKind(event, network)
      }
      const open = pending.get(kind)
      if (open) {
        open.repeated += 1
        return
      }
      const anonymous = kind !== describeKind(event, network, true)
      const first: AuditEventInput = anonymous
        ? {
            ...event,
            actorUserId: null,
            subjectUserId: null,
            username: null,
            details: { ...event.details, names_left_out: true },
          }
        : event
      const entry = { first, startedAtMs: nowMs, repeated: 0 }
      // Kept before the write, so refusals arriving meanwhile count under it.
      pending.set(kind, entry)
      try {
        await audit.record(first)
      } catch (error) {
        forget(kind, entry)
        throw error
      }
    },

    flushRefusals: () => flushEnded(clock.now().getTime()),
  }
}

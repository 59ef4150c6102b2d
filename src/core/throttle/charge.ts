/**
 * The admission rule behind `ThrottleStore.chargeThrottles`, for the backends that apply it in
 * TypeScript inside one transaction (SQLite, PostgreSQL): they lock the records, pass them here
 * and write back what comes out. The Redis scripts spell the same steps in Lua, key by key, and
 * combine them with `combineKeyOutcomes`.
 *
 * The rule replays a sequence: attempts one after another, each sent once the one before has
 * ended. An attempt in flight is counted at once, as a failure until it settles; the next one
 * may go ahead only if that failure could not block it (its key is still below the threshold).
 * Otherwise it is held back (`busy`) until the attempts in flight settle: their failures block
 * it, their successes or refunds let it through. So simultaneous attempts get no more passwords
 * checked than the same attempts in sequence, and no fewer.
 */
import { addSeconds, computeBlockSeconds } from './backoff.ts'
import type { ThrottleAdmission, ThrottleCharge, ThrottleRecord } from './store.ts'

/** A record with what the charge needs beyond the public shape: its attempts in flight. */
export interface ChargedRecord extends ThrottleRecord {
  /** Attempts counted but not yet settled. */
  pending: number
  /** The instant by which every pending attempt settles; past it, they are taken for failed. */
  settlesBy: Date | null
}

/** What one key says about an attempt. */
export type KeyOutcome =
  | { outcome: 'capped' }
  | { outcome: 'blocked'; blockedUntil: Date }
  | { outcome: 'busy' }
  | { outcome: 'counted'; count: number }

/** One key judged: its outcome and the record to write (null: leave it as it is). */
export interface JudgedKey {
  key: string
  outcome: KeyOutcome
  record: ChargedRecord | null
}

function laterOf(current: Date | null, candidate: Date): Date {
  return current !== null && current > candidate ? current : candidate
}

/** The later of two expiries, null (never) being the latest. */
function laterExpiry(current: Date | null, requested: Date | null): Date | null {
  if (current === null || requested === null) return null
  return requested > current ? requested : current
}

/** A block must not outlive its record: the expiry moves to at least the end of the block. */
function expiryCovering(expiresAt: Date | null, blockedUntil: Date): Date | null {
  return expiresAt === null || expiresAt > blockedUntil ? expiresAt : blockedUntil
}

/** Attempts of `record` still in flight at `now`. */
export function countInFlight(record: ChargedRecord | null, now: Date): number {
  return record !== null && record.settlesBy !== null && record.settlesBy > now ? record.pending : 0
}

/** Judges one key on its live record (null when absent or expired). */
export function judgeKey(charge: ThrottleCharge, record: ChargedRecord | null, now: Date): JudgedKey {
  const { key, rule } = charge
  const count = record?.count ?? 0
  const inFlight = countInFlight(record, now)
  if (charge.cap !== null && count >= charge.cap) {
    return { key, outcome: inFlight > 0 ? { outcome: 'busy' } : { outcome: 'capped' }, record: null }
  }
  if (charge.isEnforced && record?.blockedUntil && record.blockedUntil > now) {
    // A refused attempt restarts the current wait: hammering a blocked key keeps it blocked, and
    // the Retry-After a client sees never shrinks while it does.
    const blockedUntil = laterOf(record.blockedUntil, addSeconds(now, computeBlockSeconds(count, rule)))
    const renewed = { ...record, blockedUntil, expiresAt: expiryCovering(record.expiresAt, blockedUntil) }
    return { key, outcome: { outcome: 'blocked', blockedUntil }, record: renewed }
  }
  if (charge.isEnforced && inFlight > 0 && count >= rule.threshold)
    return { key, outcome: { outcome: 'busy' }, record: null }

  const counted = count + 1
  const expiresAt = record === null ? charge.expiresAt : laterExpiry(record.expiresAt, charge.expiresAt)
  const blockedUntil = record?.blockedUntil ?? null
  const settlesBy = inFlight > 0 ? (record?.settlesBy ?? null) : null
  const outcome: KeyOutcome = { outcome: 'counted', count: counted }
  if (charge.settlesBy !== null) {
    const next = {
      count: counted,
      blockedUntil,
      expiresAt,
      pending: inFlight + 1,
      settlesBy: laterOf(settlesBy, charge.settlesBy),
    }
    return { key, outcome, record: next }
  }
  // A final attempt is a failure now: from the threshold on, it blocks its key at once.
  const seconds = computeBlockSeconds(counted, rule)
  const next = { count: counted, blockedUntil, expiresAt, pending: inFlight, settlesBy }
  if (seconds === 0) return { key, outcome, record: next }
  const blockedAt = laterOf(blockedUntil, addSeconds(now, seconds))
  return { key, outcome, record: { ...next, blockedUntil: blockedAt, expiresAt: expiryCovering(expiresAt, blockedAt) } }
}

/** The attempt's admission from what each key said: a cap first, then a block, then a hold. */
export function combineKeyOutcomes(outcomes: readonly KeyOutcome[]): ThrottleAdmission {
  if (outcomes.some((entry) => entry.outcome === 'capped')) return { outcome: 'capped' }
  let latest: Date | null = null
  const counts: number[] = []
  for (const entry of outcomes) {
    if (entry.outcome === 'blocked') latest = laterOf(latest, entry.blockedUntil)
    else if (entry.outcome === 'counted') counts.push(entry.count)
  }
  if (latest !== null) return { outcome: 'blocked', blockedUntil: latest }
  if (outcomes.some((entry) => entry.outcome === 'busy')) return { outcome: 'busy' }
  return { outcome: 'admitted', counts }
}

export interface ChargeDecision {
  admission: ThrottleAdmission
  /** The records to write: every key when admitted; only the renewed blocks when refused. */
  writes: Array<{ key: string; record: ChargedRecord }>
}

/** Decides one attempt from the live records of its keys, in the order of `charges`. */
export function decideCharge(
  charges: readonly ThrottleCharge[],
  records: ReadonlyArray<ChargedRecord | null>,
  now: Date,
): ChargeDecision {
  const judged = charges.map((charge, index) => judgeKey(charge, records[index] ?? null, now))
  const admission = combineKeyOutcomes(judged.map((entry) => entry.outcome))
  const writes: ChargeDecision['writes'] = []
  for (const { key, outcome, record } of judged) {
    const isWritten = admission.outcome === 'admitted' || outcome.outcome === 'blocked'
    if (isWritten && record !== null) writes.push({ key, record })
  }
  return { admission, writes }
}

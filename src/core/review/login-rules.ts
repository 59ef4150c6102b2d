/**
 * Detection rules over sign-in attempts in one review window. An attempt that failed is a
 * `login_failed` (any reason) or a `login_throttled` (refused before the password was checked):
 * throttling slows an attack down, it does not make it less of one.
 *
 * - brute force: many failures on one account from few addresses;
 * - credential stuffing: many failures on one account from many addresses, or failures spread
 *   over many accounts and many addresses with a high failure ratio (leaked lists replayed
 *   through a botnet);
 * - password spraying: one address failing on many accounts;
 * - success after failures: a sign-in that succeeds right after a run of failures on the account.
 */
import type { AuditEventRecord } from '../audit/events.ts'
import { countAttempts } from '../audit/refusal-summaries.ts'
import { buildEvidence, countDistinct, groupBy, type Finding } from './evidence.ts'

export interface LoginRuleSettings {
  /** Failed attempts on one account that make a finding. */
  accountFailureThreshold: number
  /** From this many distinct addresses, failures on one account are stuffing, not brute force. */
  distributedIpThreshold: number
  /** Distinct accounts failed from one address that make spraying. */
  sprayAccountThreshold: number
  /** Distinct addresses and accounts of a spread-out stuffing run. */
  stuffingIpThreshold: number
  stuffingAccountThreshold: number
  /** Share of failed attempts among all attempts of a spread-out stuffing run (0–1). */
  stuffingFailureRatio: number
  /** Failures right before a success that make it suspicious. */
  successAfterFailuresThreshold: number
}

export function isFailedAttempt(event: AuditEventRecord): boolean {
  return event.type === 'login_throttled' || (event.type === 'login_failed' && event.outcome === 'failure')
}

/** Attempts a list of events stands for: a summary of repeated refusals counts each of them. */
function sumAttempts(events: readonly AuditEventRecord[]): number {
  return events.reduce((total, event) => total + countAttempts(event), 0)
}

function isSuccess(event: AuditEventRecord): boolean {
  return event.type === 'login_succeeded'
}

function describeWindow(windowSeconds: number): string {
  return windowSeconds % 60 === 0 ? `${windowSeconds / 60} min` : `${windowSeconds} s`
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

/**
 * Which account a group of attempts was about, for a summary. Summaries never quote a username:
 * chat receivers turn text into links, and a name (or what was typed as one) is attacker text.
 * The names, kept in clear for accounts and as digests otherwise, are in the evidence.
 */
function describeTarget(events: readonly AuditEventRecord[]): string {
  const userId = events.find((event) => event.subjectUserId !== null)?.subjectUserId
  return userId ? `user ${userId}` : 'a username that names no account'
}

/** Brute force and one-account stuffing, per attempted username. */
export function detectAccountAttacks(
  events: readonly AuditEventRecord[],
  settings: LoginRuleSettings,
  windowSeconds: number,
): Finding[] {
  const findings: Finding[] = []
  for (const [username, failures] of groupBy(events.filter(isFailedAttempt), (event) => event.username)) {
    const failureCount = sumAttempts(failures)
    if (failureCount < settings.accountFailureThreshold) continue
    const ipCount = countDistinct(failures.map((event) => event.ip))
    const isDistributed = ipCount >= settings.distributedIpThreshold
    const rule = isDistributed ? 'credential_stuffing' : 'brute_force'
    findings.push({
      rule,
      severity: 'high',
      dedupeKey: `${rule}:account:${username}`,
      summary: `${plural(failureCount, 'failed sign-in')} on ${describeTarget(failures)} from ${plural(ipCount, 'address')} within ${describeWindow(windowSeconds)}`,
      evidence: buildEvidence(failures, { failures: failureCount, ips: ipCount }),
    })
  }
  return findings
}

/** Password spraying, per client address. */
export function detectPasswordSpraying(
  events: readonly AuditEventRecord[],
  settings: LoginRuleSettings,
  windowSeconds: number,
): Finding[] {
  const findings: Finding[] = []
  for (const [ip, failures] of groupBy(events.filter(isFailedAttempt), (event) => event.ip)) {
    const accountCount = countDistinct(failures.map((event) => event.username))
    if (accountCount < settings.sprayAccountThreshold) continue
    const failureCount = sumAttempts(failures)
    findings.push({
      rule: 'password_spraying',
      severity: 'high',
      dedupeKey: `password_spraying:ip:${ip}`,
      summary: `${plural(failureCount, 'failed sign-in')} on ${plural(accountCount, 'account')} from ${ip} within ${describeWindow(windowSeconds)}`,
      evidence: buildEvidence(failures, { failures: failureCount, accounts: accountCount }),
    })
  }
  return findings
}

/** Stuffing spread over many accounts and addresses, none of them loud on its own. */
export function detectSpreadStuffing(
  events: readonly AuditEventRecord[],
  settings: LoginRuleSettings,
  windowSeconds: number,
): Finding[] {
  const failures = events.filter(isFailedAttempt)
  const successes = events.filter(isSuccess)
  const ipCount = countDistinct(failures.map((event) => event.ip))
  const accountCount = countDistinct(failures.map((event) => event.username))
  const failureCount = sumAttempts(failures)
  const attempts = failureCount + successes.length
  if (attempts === 0) return []
  const failureRatio = failureCount / attempts
  if (
    ipCount < settings.stuffingIpThreshold ||
    accountCount < settings.stuffingAccountThreshold ||
    failureRatio < settings.stuffingFailureRatio
  ) {
    return []
  }
  return [
    {
      rule: 'credential_stuffing',
      severity: 'high',
      dedupeKey: 'credential_stuffing:spread',
      summary: `${plural(failureCount, 'failed sign-in')} on ${plural(accountCount, 'account')} from ${plural(ipCount, 'address')} (${Math.round(failureRatio * 100)}% of attempts failed) within ${describeWindow(windowSeconds)}`,
      evidence: buildEvidence(failures, {
        failures: failureCount,
        successes: successes.length,
        accounts: accountCount,
        ips: ipCount,
        failure_percent: Math.round(failureRatio * 100),
      }),
    },
  ]
}

/** A success preceded by a run of failures on the same account (the run ends at a success). */
export function detectSuccessAfterFailures(
  events: readonly AuditEventRecord[],
  settings: LoginRuleSettings,
): Finding[] {
  const findings: Finding[] = []
  const relevant = events.filter((event) => isFailedAttempt(event) || isSuccess(event))
  for (const [username, attempts] of groupBy(relevant, (event) => event.username)) {
    let run: AuditEventRecord[] = []
    for (const event of attempts) {
      if (!isSuccess(event)) {
        run.push(event)
        continue
      }
      const failureCount = sumAttempts(run)
      if (failureCount >= settings.successAfterFailuresThreshold) {
        const ipCount = countDistinct(run.map((failure) => failure.ip))
        findings.push({
          rule: 'success_after_failures',
          severity: 'high',
          dedupeKey: `success_after_failures:account:${username}`,
          summary: `Sign-in of ${describeTarget([event])} from ${event.ip ?? 'an unknown address'} succeeded after ${plural(failureCount, 'failed attempt')} from ${plural(ipCount, 'address')}`,
          evidence: buildEvidence([event, ...run], { failures: failureCount, ips: ipCount }),
        })
      }
      run = []
    }
  }
  return findings
}

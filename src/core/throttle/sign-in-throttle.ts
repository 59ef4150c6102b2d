/**
 * Throttling of password verifications (sign-in and password change), counted per account, per
 * account and network, and per network. The policy, chosen so that brute force stops without
 * letting an attacker lock a victim out from anywhere:
 *
 * 1. Every count is keyed on the normalised username, whether or not such an account exists, and
 *    a refusal reads the same either way, so throttling tells nothing about existence.
 * 2. Account and network (strict): a few failures, then a back-off that doubles up to the lock
 *    duration. This is what an attacker hammering one account from one place runs into.
 * 3. Account (loose): a higher threshold with the same back-off, against attackers who rotate
 *    addresses. A network the account has signed in from before ("known") is exempt from it, so
 *    an attack elsewhere does not lock the owner out of their usual place.
 * 4. Network: failures of accounts not known there, against spraying and credential stuffing.
 *    Known account–network pairs are exempt, so one busy NAT does not lock out its regulars.
 * 5. Hard cap: an account never accrues more than `maxFailures` consecutive failures (NIST SP
 *    800-63B: at most 100). Unknown networks stop `knownNetworkReserve` short of it, so known
 *    networks keep a few attempts; at the cap nothing is verified until a success or an unlock.
 *
 * Account counters are incremented *before* the password is verified (and refunded when no
 * verification ran), so concurrent attempts cannot all slip through a check made before any of
 * them was counted: the cap is exact. The network counter only counts failures, after the fact.
 * While a key is blocked, no password is verified at all, not even the right one.
 */
import { normalizeUsername } from '../accounts/username.ts'
import type { Clock } from '../clock.ts'
import { hashToken } from '../secrets.ts'
import {
  addSeconds,
  computeBlockSeconds,
  createRateLimitedError,
  renewBlocks,
  secondsUntil,
  type BackoffRule,
  type BlockCandidate,
} from './backoff.ts'
import { describeClientNetwork } from './client-network.ts'
import type { ThrottleBlock, ThrottleIncrement, ThrottleStore } from './store.ts'

export interface SignInThrottleSettings {
  account: BackoffRule
  accountNetwork: BackoffRule
  network: BackoffRule
  /** Consecutive failures an account may ever accrue (at most 100). */
  maxFailures: number
  /** Failures below the cap kept for networks the account has signed in from. */
  knownNetworkReserve: number
  /** How long a network stays known after a successful sign-in from it. */
  knownNetworkTtlSeconds: number
}

export interface SignInAttempt {
  /** The password was right: forgets the account's failures and marks the network as known. */
  recordSuccess(): Promise<void>
  /** The password was wrong (or the account unknown or disabled). */
  recordFailure(): Promise<void>
  /** No password was verified after all (for example the server was busy): uncounts the attempt. */
  cancel(): Promise<void>
}

/** Throttle keys of an account: the normalised name, or a digest of input that is no valid name. */
export function describeAccountSubject(username: string): string {
  const name = normalizeUsername(username)
  return name ? name.key : `~${hashToken(username)}`
}

export function accountKey(subject: string): string {
  return `signin:account:${subject}`
}

export function accountNetworkKeyPrefix(subject: string): string {
  return `signin:account-network:${subject}|`
}

export interface SignInThrottle {
  /** Admits one password verification for `username` from `ip`, or throws `rate_limited`. */
  admitSignIn(input: { username: string; ip: string }): Promise<SignInAttempt>
  /** Clears an account's failure counters everywhere (admin unlock); known networks stay known. */
  unlockAccount(username: string): Promise<number>
}

export function createSignInThrottle(deps: {
  store: ThrottleStore
  clock: Clock
  settings: SignInThrottleSettings
}): SignInThrottle {
  const { store, clock, settings } = deps
  const hardCapForUnknown = settings.maxFailures - settings.knownNetworkReserve

  function expiryFor(rule: BackoffRule, now: Date): Date {
    return addSeconds(now, rule.forgetAfterSeconds)
  }

  return {
    async admitSignIn(input: { username: string; ip: string }): Promise<SignInAttempt> {
      const subject = describeAccountSubject(input.username)
      const network = describeClientNetwork(input.ip)
      const keys = {
        account: accountKey(subject),
        accountNetwork: `${accountNetworkKeyPrefix(subject)}${network}`,
        network: `signin:network:${network}`,
        known: `signin:known:${subject}|${network}`,
      }
      const now = clock.now()
      const [account, accountNetwork, networkRecord, known] = await store.readThrottles(
        [keys.account, keys.accountNetwork, keys.network, keys.known],
        now,
      )
      const isKnown = known !== null
      const accountCap = isKnown ? settings.maxFailures : hardCapForUnknown
      if ((account?.count ?? 0) >= accountCap) {
        throw createRateLimitedError(settings.account.maxDelaySeconds)
      }
      const candidates: BlockCandidate[] = [{ key: keys.accountNetwork, record: accountNetwork ?? null, rule: settings.accountNetwork }]
      if (!isKnown) {
        candidates.push({ key: keys.account, record: account ?? null, rule: settings.account })
        candidates.push({ key: keys.network, record: networkRecord ?? null, rule: settings.network })
      }
      const renewal = renewBlocks(candidates, now)
      if (renewal.until) {
        await store.extendThrottleBlocks(renewal.blocks, now)
        throw createRateLimitedError(secondsUntil(renewal.until, now))
      }

      const counted = [
        { key: keys.account, rule: settings.account },
        { key: keys.accountNetwork, rule: settings.accountNetwork },
      ]
      const increments: ThrottleIncrement[] = counted.map(({ key, rule }) => ({ key, expiresAt: expiryFor(rule, now) }))
      const [accountCount = 0, accountNetworkCount = 0] = await store.incrementThrottles(increments, now)
      const countedKeys = counted.map(({ key }) => key)
      if (accountCount > accountCap) {
        // Concurrent attempts raced past the read above; the counter is exact, so the cap holds.
        await store.decrementThrottles(countedKeys, now)
        throw createRateLimitedError(settings.account.maxDelaySeconds)
      }

      return {
        async recordSuccess() {
          const at = clock.now()
          await store.deleteThrottles([keys.account, keys.accountNetwork])
          await store.incrementThrottles([{ key: keys.known, expiresAt: addSeconds(at, settings.knownNetworkTtlSeconds) }], at)
        },
        async recordFailure() {
          // Back-off starts from settled failures only: concurrent sign-ins of the same user that
          // succeed never block each other (the attempt counters above still bound the hard cap).
          const at = clock.now()
          // At the unknown-network cap the account counter is kept until a success or an unlock.
          const isHardLocked = accountCount >= hardCapForUnknown
          const blocks: ThrottleBlock[] = []
          const accountSeconds = computeBlockSeconds(accountCount, settings.account)
          if (accountSeconds > 0 || isHardLocked) {
            blocks.push({
              key: keys.account,
              blockedUntil: addSeconds(at, accountSeconds),
              expiresAt: isHardLocked ? null : expiryFor(settings.account, at),
            })
          }
          const accountNetworkSeconds = computeBlockSeconds(accountNetworkCount, settings.accountNetwork)
          if (accountNetworkSeconds > 0) {
            blocks.push({
              key: keys.accountNetwork,
              blockedUntil: addSeconds(at, accountNetworkSeconds),
              expiresAt: expiryFor(settings.accountNetwork, at),
            })
          }
          if (blocks.length > 0) await store.extendThrottleBlocks(blocks, at)
          // Counted after the fact, so concurrent sign-ins that succeed never block a shared address.
          if (isKnown) return
          const expiresAt = expiryFor(settings.network, at)
          const [count = 0] = await store.incrementThrottles([{ key: keys.network, expiresAt }], at)
          const seconds = computeBlockSeconds(count, settings.network)
          if (seconds > 0) await store.extendThrottleBlocks([{ key: keys.network, blockedUntil: addSeconds(at, seconds), expiresAt }], at)
        },
        cancel: () => store.decrementThrottles(countedKeys, clock.now()),
      }
    },

    async unlockAccount(username: string): Promise<number> {
      const subject = describeAccountSubject(username)
      const direct = await store.deleteThrottles([accountKey(subject)])
      return direct + (await store.deleteThrottlesByPrefix(accountNetworkKeyPrefix(subject)))
    },
  }
}

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
 * Admission is one atomic step of the store (`chargeThrottles`): it checks the blocks and the cap
 * and counts the attempt on every counter at once, as a failure until its verification ends. The
 * Nth of N simultaneous attempts therefore sees the N-1 before it: while those could still fail
 * and block it, it waits for them (see admission.ts), then gets the answer it would have had
 * sent after them. A burst gets no more passwords checked than the same attempts sent one after
 * another. When the verification ends, a failure stays counted and starts its wait, a success
 * clears the account counters and refunds the network's, and an attempt that verified nothing
 * is refunded everywhere. While a key is blocked, no password is verified at all, not even the
 * right one.
 */
import { normalizeUsername } from '../accounts/username.ts'
import type { Clock } from '../clock.ts'
import { hashToken } from '../secrets.ts'
import { chargeWhenSettled, inFlightLimitSeconds, type Wait } from './admission.ts'
import { addSeconds, computeBlockSeconds, createRateLimitedError, secondsUntil, type BackoffRule } from './backoff.ts'
import { describeClientNetwork } from './client-network.ts'
import type { ThrottleCharge, ThrottleSettlement, ThrottleStore } from './store.ts'

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
  wait: Wait
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
      // Only a success makes a network known, and only time forgets it; an attempt judged on a
      // stale "unknown" is judged more strictly, so this read need not be atomic with the charge.
      const [known] = await store.readThrottles([keys.known], clock.now())
      const isKnown = known !== null
      const chargesAt = (now: Date): ThrottleCharge[] => {
        const settlesBy = addSeconds(now, inFlightLimitSeconds)
        const charges: ThrottleCharge[] = [
          {
            key: keys.account,
            rule: settings.account,
            expiresAt: expiryFor(settings.account, now),
            // A known network is exempt from the username-wide back-off, never from the cap.
            isEnforced: !isKnown,
            cap: isKnown ? settings.maxFailures : hardCapForUnknown,
            settlesBy,
          },
          {
            key: keys.accountNetwork,
            rule: settings.accountNetwork,
            expiresAt: expiryFor(settings.accountNetwork, now),
            isEnforced: true,
            cap: null,
            settlesBy,
          },
        ]
        // Known pairs are exempt from the network counter, so one busy NAT does not lock out its regulars.
        if (!isKnown) {
          const expiresAt = expiryFor(settings.network, now)
          charges.push({ key: keys.network, rule: settings.network, expiresAt, isEnforced: true, cap: null, settlesBy })
        }
        return charges
      }
      const { admission, now } = await chargeWhenSettled(deps, chargesAt)
      if (admission.outcome === 'capped') throw createRateLimitedError(settings.account.maxDelaySeconds)
      if (admission.outcome === 'blocked') throw createRateLimitedError(secondsUntil(admission.blockedUntil, now))
      const [accountCount = 0, accountNetworkCount = 0, networkCount = 0] = admission.counts
      const chargedKeys = isKnown
        ? [keys.account, keys.accountNetwork]
        : [keys.account, keys.accountNetwork, keys.network]

      return {
        async recordSuccess() {
          const at = clock.now()
          await Promise.all([
            store.deleteThrottles([keys.account, keys.accountNetwork]),
            store.incrementThrottles(
              [{ key: keys.known, expiresAt: addSeconds(at, settings.knownNetworkTtlSeconds) }],
              at,
            ),
            isKnown ? undefined : store.refundThrottles([keys.network], at),
          ])
        },
        async recordFailure() {
          // Each counter already holds this failure; its wait starts now, as it would have for
          // attempts sent one after another.
          const at = clock.now()
          const blockFrom = (count: number, rule: BackoffRule) => {
            const seconds = computeBlockSeconds(count, rule)
            return seconds > 0 ? addSeconds(at, seconds) : null
          }
          // At the unknown-network cap the account counter is kept until a success or an unlock.
          const isHardLocked = accountCount >= hardCapForUnknown
          const settlements: ThrottleSettlement[] = [
            {
              key: keys.account,
              blockedUntil: blockFrom(accountCount, settings.account),
              expiresAt: isHardLocked ? null : expiryFor(settings.account, at),
            },
            {
              key: keys.accountNetwork,
              blockedUntil: blockFrom(accountNetworkCount, settings.accountNetwork),
              expiresAt: expiryFor(settings.accountNetwork, at),
            },
          ]
          if (!isKnown) {
            const blockedUntil = blockFrom(networkCount, settings.network)
            settlements.push({ key: keys.network, blockedUntil, expiresAt: expiryFor(settings.network, at) })
          }
          await store.settleThrottleFailures(settlements, at)
        },
        cancel: () => store.refundThrottles(chargedKeys, clock.now()),
      }
    },

    async unlockAccount(username: string): Promise<number> {
      const subject = describeAccountSubject(username)
      const direct = await store.deleteThrottles([accountKey(subject)])
      return direct + (await store.deleteThrottlesByPrefix(accountNetworkKeyPrefix(subject)))
    },
  }
}

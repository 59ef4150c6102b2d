/**
 * The second factor as users and operators manage it: TOTP enrolment (a secret shown once,
 * confirmed by its first code), recovery codes, turning it off, the step-up check of sensitive
 * operations, the rule that some roles must use a second factor, and the admin view and reset.
 * Signing in and re-authenticating with it are in second-factor-sign-in.ts.
 *
 * Every change is a unit of work with its audit event; a code check passes the sign-in throttle
 * first (per account and per network), so codes are guessed no faster than passwords.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { Accounts } from '../accounts/accounts.ts'
import type { UserRecord } from '../accounts/store.ts'
import type { Audit, AuditEventInput } from '../audit/audit.ts'
import type { RefusalSummaries } from '../audit/refusal-summaries.ts'
import type { StepUp } from '../auth/step-up.ts'
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import type { PasskeySettings } from '../passkeys/passkeys.ts'
import type { PasskeyStore } from '../passkeys/store.ts'
import type { RequestContext } from '../request-context.ts'
import { combineMethods, isMultiFactor } from '../second-factor/authentication-methods.ts'
import { openTotpSecret } from '../second-factor/proofs.ts'
import { createRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from '../second-factor/recovery-codes.ts'
import type { SecondFactorStore, TotpRecord } from '../second-factor/store.ts'
import { buildOtpauthUri, defaultTotpParameters, encodeBase32, findTotpStep } from '../second-factor/totp.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { SignInThrottle } from '../throttle/sign-in-throttle.ts'
import type { KeyProtector } from '../tokens/key-protection.ts'
import type { UnitOfWork } from '../unit-of-work.ts'
import type { AdminActor } from './account-admin.ts'
import type { ClientContext, Principal } from './sign-in.ts'

export interface SecondFactorSettings {
  /** Sensitive operations need an authentication at most this old. */
  reauthenticationMaxAgeSeconds: number
  /** Holders of these roles must use a second factor. */
  requiredRoles: readonly string[]
  /** The issuer label of otpauth URIs. */
  totpIssuer: string
  webauthn: PasskeySettings
}

export interface SecondFactorStatus {
  /** A confirmed TOTP secret: password sign-ins need a second step. */
  isEnabled: boolean
  enabledAt: Date | null
  recoveryCodesLeft: number
  passkeyCount: number
  /** One of the user's roles requires a second factor. */
  isRequired: boolean
}

export interface TotpEnrolment {
  /** Base32, shown once (in `otpauthUri` too); never stored in clear. */
  secret: string
  otpauthUri: string
  algorithm: string
  digits: number
  periodSeconds: number
  /** The enrolment must be confirmed with a code within this time. */
  expiresInSeconds: number
}

/** Told when a recovery code was used (the hook for an email or other alert to the owner). */
export interface RecoveryCodeNotice {
  user: UserRecord
  remainingCodes: number
  context: RequestContext
}

export interface SecondFactorOperations {
  getStatus(principal: Principal): Promise<SecondFactorStatus>
  /** Throws `reauthentication_required`, `mfa_already_enrolled`. */
  startTotpEnrolment(principal: Principal, context: RequestContext): Promise<TotpEnrolment>
  /** Confirms with the first code; returns the recovery codes (shown once). Throws `invalid_mfa_code`, `not_found`, `rate_limited`. */
  confirmTotpEnrolment(principal: Principal, code: string, context: ClientContext): Promise<{ recoveryCodes: string[] }>
  /** Removes the TOTP secret and the recovery codes. Throws `reauthentication_required`, `not_found`. */
  disable(principal: Principal, context: RequestContext): Promise<void>
  /** A new set of recovery codes; the old set is void. Throws `reauthentication_required`, `not_found`. */
  regenerateRecoveryCodes(principal: Principal, context: RequestContext): Promise<string[]>
  /**
   * The step-up check of sensitive operations: throws `reauthentication_required` unless the
   * session was authenticated within TESSERA_REAUTHENTICATION_MAX_AGE, with the second factor
   * when the account has one. Account deletion and email change call it too.
   */
  requireRecentAuthentication(principal: Principal): Promise<void>
  /** The same, only when the account has a second factor (admin changes by an admin with one). */
  requireRecentSecondFactor(principal: Principal): Promise<void>
  /**
   * The rule of TESSERA_MFA_REQUIRED_ROLES: throws `mfa_enrolment_required` for a holder of such
   * a role without a second factor, `reauthentication_required` for a session of theirs that did
   * not use it.
   */
  enforceRolePolicy(principal: Principal): Promise<void>
  /**
   * Whether TESSERA_MFA_REQUIRED_ROLES has anything to say about this principal (a required role,
   * in a session that did not use a second factor): answered without a store read, so the other
   * requests, nearly all of them, pass the policy without waiting for anything.
   */
  isBoundByRolePolicy(principal: Principal): boolean
  /** An admin's view of a user; throws `not_found`. */
  describeUser(userId: string): Promise<SecondFactorStatus>
  /**
   * Removes a user's TOTP secret, recovery codes and passkeys and ends every session of theirs
   * (a lost device, a compromised account). Throws `not_found`.
   */
  resetUser(userId: string, actor: AdminActor): Promise<{ user: UserRecord; removedPasskeys: number }>
}

/** How long a shown TOTP secret waits for its confirming code. */
export const totpEnrolmentTtlSeconds = 600

export function createSecondFactorOperations(deps: {
  store: SecondFactorStore
  passkeyStore: PasskeyStore
  accounts: Accounts
  sessions: Sessions
  throttle: SignInThrottle
  stepUp: StepUp
  protector: KeyProtector
  audit: Audit
  refusals: RefusalSummaries
  unitOfWork: UnitOfWork
  clock: Clock
  settings: SecondFactorSettings
}): SecondFactorOperations {
  const {
    store,
    passkeyStore,
    accounts,
    sessions,
    throttle,
    stepUp,
    protector,
    audit,
    refusals,
    unitOfWork,
    clock,
    settings,
  } = deps

  function about(principal: Principal, context: RequestContext) {
    return {
      actorUserId: principal.user.id,
      subjectUserId: principal.user.id,
      sessionId: principal.session.id,
      context,
    }
  }

  async function describe(user: UserRecord): Promise<SecondFactorStatus> {
    const [totp, recoveryCodesLeft, passkeys] = await Promise.all([
      store.findTotp(user.id),
      store.countRecoveryCodes(user.id),
      passkeyStore.listUserPasskeys(user.id),
    ])
    return {
      isEnabled: totp?.confirmedAt != null,
      enabledAt: totp?.confirmedAt ?? null,
      recoveryCodesLeft,
      passkeyCount: passkeys.length,
      isRequired: user.roles.some((role) => settings.requiredRoles.includes(role)),
    }
  }

  async function findPendingTotp(userId: string): Promise<TotpRecord | null> {
    const record = await store.findTotp(userId)
    if (!record || record.confirmedAt !== null) return null
    const ageMs = clock.now().getTime() - record.createdAt.getTime()
    return ageMs <= totpEnrolmentTtlSeconds * 1000 ? record : null
  }

  async function admitCodeCheck(principal: Principal, context: ClientContext) {
    try {
      return await throttle.admitSignIn({ username: principal.user.username, ip: context.ip })
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'rate_limited') {
        await refusals.recordRefusal({
          type: 'mfa_failed',
          outcome: 'failure',
          reason: 'account_throttled',
          details: { method: 'totp' },
          ...about(principal, context),
        })
      }
      throw error
    }
  }

  function isBoundByRolePolicy({ user, session }: Principal): boolean {
    return user.roles.some((role) => settings.requiredRoles.includes(role)) && !isMultiFactor(session.amr)
  }

  return {
    getStatus: (principal) => describe(principal.user),

    async startTotpEnrolment(principal, context) {
      await stepUp.requireRecentAuthentication(principal)
      const existing = await store.findTotp(principal.user.id)
      if (existing?.confirmedAt)
        throw new TesseraError('mfa_already_enrolled', 'A TOTP authenticator is enrolled already; remove it first.')
      const secret = randomBytes(20)
      const record: TotpRecord = {
        id: randomUUID(),
        userId: principal.user.id,
        secretCiphertext: protector.seal(secret.toString('base64url')),
        ...defaultTotpParameters,
        lastUsedStep: null,
        createdAt: clock.now(),
        confirmedAt: null,
      }
      await unitOfWork.run(async (change) => {
        if (!(await change.stores.secondFactors.savePendingTotp(record))) {
          throw new TesseraError('mfa_already_enrolled', 'A TOTP authenticator is enrolled already; remove it first.')
        }
        change.record({
          type: 'mfa_enrolment_started',
          outcome: 'success',
          details: { method: 'totp' },
          ...about(principal, context),
        })
      })
      return {
        secret: encodeBase32(secret),
        otpauthUri: buildOtpauthUri({ secret, issuer: settings.totpIssuer, accountName: principal.user.username }),
        algorithm: record.algorithm,
        digits: record.digits,
        periodSeconds: record.periodSeconds,
        expiresInSeconds: totpEnrolmentTtlSeconds,
      }
    },

    async confirmTotpEnrolment(principal, code, context) {
      const attempt = await admitCodeCheck(principal, context)
      const pending = await findPendingTotp(principal.user.id).catch(async (error: unknown) => {
        await attempt.cancel()
        throw error
      })
      if (!pending) {
        await attempt.cancel()
        throw new TesseraError('not_found', 'No TOTP enrolment is waiting for a code; start it again.')
      }
      const step = findTotpStep(openTotpSecret(protector, pending), code, clock.now().getTime(), {
        ...pending,
        lastUsedStep: null,
      })
      if (step === null) {
        await attempt.recordFailure()
        await audit.record({
          type: 'mfa_failed',
          outcome: 'failure',
          reason: 'bad_code',
          details: { method: 'totp', phase: 'enrolment' },
          ...about(principal, context),
        })
        throw new TesseraError('invalid_mfa_code', "The code is not correct; check the authenticator app's clock.")
      }
      const recoveryCodes = createRecoveryCodes()
      const codeHashes = recoveryCodes.map((recoveryCode) =>
        hashRecoveryCode(normalizeRecoveryCode(recoveryCode) ?? recoveryCode),
      )
      const now = clock.now()
      try {
        await unitOfWork.run(async (change) => {
          if (!(await change.stores.secondFactors.confirmTotp(principal.user.id, pending.id, step, now))) {
            throw new TesseraError('not_found', 'No TOTP enrolment is waiting for a code; start it again.')
          }
          await change.stores.secondFactors.replaceRecoveryCodes(principal.user.id, codeHashes, now)
          change.record({
            type: 'mfa_enrolled',
            outcome: 'success',
            details: { method: 'totp', recovery_codes: codeHashes.length },
            ...about(principal, context),
          })
        })
      } catch (error) {
        await attempt.cancel()
        throw error
      }
      await attempt.recordSuccess()
      // This session has just shown the second factor: it counts as authenticated with it now.
      await sessions.recordReauthentication(principal.session, {
        authenticatedAt: now,
        amr: combineMethods(principal.session.amr, ['otp']),
      })
      return { recoveryCodes }
    },

    async disable(principal, context) {
      await stepUp.requireRecentAuthentication(principal)
      await unitOfWork.run(async (change) => {
        if (!(await change.stores.secondFactors.deleteTotp(principal.user.id))) {
          throw new TesseraError('not_found', 'No TOTP authenticator is enrolled.')
        }
        await change.stores.secondFactors.deleteRecoveryCodes(principal.user.id)
        change.record({
          type: 'mfa_disabled',
          outcome: 'success',
          details: { method: 'totp' },
          ...about(principal, context),
        })
      })
    },

    async regenerateRecoveryCodes(principal, context) {
      await stepUp.requireRecentAuthentication(principal)
      const recoveryCodes = createRecoveryCodes()
      const codeHashes = recoveryCodes.map((recoveryCode) =>
        hashRecoveryCode(normalizeRecoveryCode(recoveryCode) ?? recoveryCode),
      )
      await unitOfWork.run(async (change) => {
        const totp = await change.stores.secondFactors.findTotp(principal.user.id)
        if (!totp?.confirmedAt)
          throw new TesseraError('not_found', 'Recovery codes come with an enrolled TOTP authenticator.')
        await change.stores.secondFactors.replaceRecoveryCodes(principal.user.id, codeHashes, clock.now())
        change.record({
          type: 'recovery_codes_regenerated',
          outcome: 'success',
          details: { recovery_codes: codeHashes.length },
          ...about(principal, context),
        })
      })
      return recoveryCodes
    },

    requireRecentAuthentication: (principal) => stepUp.requireRecentAuthentication(principal),
    requireRecentSecondFactor: (principal) => stepUp.requireRecentSecondFactor(principal),

    isBoundByRolePolicy,

    async enforceRolePolicy(principal) {
      if (!isBoundByRolePolicy(principal)) return
      const { user } = principal
      const totp = await store.findTotp(user.id)
      if (totp?.confirmedAt) {
        throw new TesseraError(
          'reauthentication_required',
          'Your role requires a second factor: re-authenticate with it (POST /v1/auth/reauthenticate).',
          {
            details: { max_age: settings.reauthenticationMaxAgeSeconds },
          },
        )
      }
      throw new TesseraError(
        'mfa_enrolment_required',
        'Your role requires a second factor: enrol one (POST /v1/me/mfa/totp) before anything else.',
      )
    },

    async describeUser(userId) {
      const user = await accounts.findUser(userId)
      if (!user) throw new TesseraError('not_found', 'No such user.')
      return describe(user)
    },

    async resetUser(userId, actor) {
      return unitOfWork.run(async (change) => {
        const before = await change.stores.accounts.findUserById(userId)
        if (!before) throw new TesseraError('not_found', 'No such user.')
        const removedTotp = await change.stores.secondFactors.deleteTotp(userId)
        const removedCodes = await change.stores.secondFactors.deleteRecoveryCodes(userId)
        const removedPasskeys = await change.stores.passkeys.deleteUserPasskeys(userId)
        const user = (await sessions.endAllSessionsIn(change, userId, 'mfa_reset')) ?? before
        const event: AuditEventInput = {
          type: 'mfa_reset',
          outcome: 'success',
          reason: 'admin_action',
          actorUserId: actor.actorUserId,
          subjectUserId: userId,
          username: user.usernameKey,
          details: {
            removed_totp: removedTotp,
            removed_recovery_codes: removedCodes,
            removed_authenticators: removedPasskeys,
          },
          context: actor.context,
        }
        change.record(event)
        return { user, removedPasskeys }
      })
    },
  }
}

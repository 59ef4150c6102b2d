/**
 * Signing in and re-authenticating with the second factor.
 *
 * 1. A correct password on an account with a confirmed TOTP secret opens no session: the sign-in
 *    throttle refunds the attempt (neither a failure nor a success: only the second step clears
 *    the counters), and the client gets `mfa_required` with a challenge (256 random bits, stored
 *    as a SHA-256, five minutes, five attempts). A wrong password answers as on any account.
 * 2. `completeSignIn` takes the challenge and one proof. Each check passes the sign-in throttle
 *    (per account and per network) and takes one of the challenge's attempts in one atomic store
 *    step, so a burst of guesses gets no more checks than the same guesses one after another.
 * 3. A proof that checks out is spent in the unit of work that consumes the challenge and
 *    records the sign-in, after the session was started (and discarded if that unit fails): the
 *    client holds a session exactly when the factor and the challenge are spent.
 *
 * Re-authentication renews the authentication time and methods of the caller's session (its id
 * and tokens stay), with the password, a second factor or both, as the account requires.
 */
import { undoAfterFailure } from '../undo-after-failure.ts'
import { recordSessionsEndedByLimit } from './session-limit.ts'
import type { Accounts } from '../accounts/accounts.ts'
import type { UserRecord } from '../accounts/store.ts'
import type { Audit, AuditEventInput } from '../audit/audit.ts'
import type { RefusalSummaries } from '../audit/refusal-summaries.ts'
import { describeSessionStart } from '../auth/sign-in-events.ts'
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import type { Passkeys } from '../passkeys/passkeys.ts'
import type { PasskeyStore } from '../passkeys/store.ts'
import type { RequestContext } from '../request-context.ts'
import { createRandomToken, hashToken } from '../secrets.ts'
import { combineMethods } from '../second-factor/authentication-methods.ts'
import { isVerified, type ProofChecks, type SecondFactorProof, type VerifiedProof } from '../second-factor/proofs.ts'
import type { SecondFactorStore } from '../second-factor/store.ts'
import type { SessionAuthentication, Sessions } from '../sessions/sessions.ts'
import type { SessionRecord, SessionTransport } from '../sessions/store.ts'
import type { SignInAttempt, SignInThrottle } from '../throttle/sign-in-throttle.ts'
import type { AccessTokens } from '../tokens/access-tokens.ts'
import type { Change, UnitOfWork } from '../unit-of-work.ts'
import type { RecoveryCodeNotice } from './second-factor.ts'
import type { ClientContext, Principal, SessionAccessToken, SignIn } from './sign-in.ts'

export const mfaChallengeTtlSeconds = 300
export const mfaChallengeAttempts = 5

export type { SecondFactorProof } from '../second-factor/proofs.ts'

export interface Reauthentication {
  session: SessionRecord
  /** Token transport: an access token carrying the new `auth_time` and `amr`. */
  accessToken: SessionAccessToken | null
}

export interface SecondFactorSignInOperations {
  /** Options for a passkey as the second step of the sign-in `challenge`; throws `invalid_mfa_challenge`. */
  createSecondStepPasskeyOptions(challenge: string): Promise<unknown>
  /** Completes a sign-in with its second factor; throws `invalid_mfa_challenge`, `invalid_mfa_code`, `rate_limited`. */
  completeSignIn(input: { challenge: string; proof: SecondFactorProof } & ClientContext): Promise<SignIn>
  /** Options for a passkey re-authentication of the caller's session. */
  createReauthenticationPasskeyOptions(principal: Principal): Promise<unknown>
  /**
   * Renews the session's authentication: the password and/or a second factor (an account with a
   * second factor must use it). Throws `invalid_credentials`, `invalid_mfa_code`, `rate_limited`,
   * `validation_failed`.
   */
  reauthenticate(
    principal: Principal,
    input: { password?: string; proof?: SecondFactorProof } & ClientContext,
  ): Promise<Reauthentication>
}

/** What sign-in asks after a correct password: throws `mfa_required` for an account with a second factor. */
export interface SecondFactorGate {
  requireNoSecondFactor(user: UserRecord, transport: SessionTransport, context: ClientContext): Promise<void>
}

function invalidChallenge(): TesseraError {
  return new TesseraError(
    'invalid_mfa_challenge',
    'This sign-in has expired or was used; sign in with your password again.',
  )
}

function invalidCode(): TesseraError {
  return new TesseraError('invalid_mfa_code', 'The second factor is not correct.')
}

export function createSecondFactorGate(deps: {
  store: SecondFactorStore
  passkeyStore: PasskeyStore
  checks: ProofChecks
  audit: Audit
  clock: Clock
}): SecondFactorGate {
  const { store, passkeyStore, checks, audit, clock } = deps
  return {
    async requireNoSecondFactor(user, transport, context) {
      if (!(await checks.findConfirmedTotp(user.id))) return
      const challenge = createRandomToken(32)
      const now = clock.now()
      await store.insertMfaChallenge({
        tokenHash: hashToken(challenge),
        userId: user.id,
        transport,
        createdAt: now,
        expiresAt: new Date(now.getTime() + mfaChallengeTtlSeconds * 1000),
        attemptsLeft: mfaChallengeAttempts,
      })
      const hasPasskeys = (await passkeyStore.listUserPasskeys(user.id)).length > 0
      await audit.record({
        type: 'mfa_challenge_issued',
        outcome: 'success',
        actorUserId: user.id,
        subjectUserId: user.id,
        username: user.usernameKey,
        details: { transport },
        context,
      })
      throw new TesseraError(
        'mfa_required',
        'The password is right; now confirm with your second factor (POST /v1/auth/mfa).',
        {
          details: {
            mfa_challenge: challenge,
            mfa_methods: hasPasskeys ? ['totp', 'recovery_code', 'passkey'] : ['totp', 'recovery_code'],
            expires_in: mfaChallengeTtlSeconds,
          },
        },
      )
    },
  }
}

export function createSecondFactorSignIn(deps: {
  store: SecondFactorStore
  checks: ProofChecks
  passkeys: Passkeys
  accounts: Accounts
  sessions: Sessions
  accessTokens: AccessTokens
  throttle: SignInThrottle
  audit: Audit
  /** Refusals anyone can send at full speed (throttled checks, unknown challenges) are summarised. */
  refusals: RefusalSummaries
  unitOfWork: UnitOfWork
  clock: Clock
  /** Told after a recovery code was used: the hook for mailing the owner. */
  onRecoveryCodeUsed?: (notice: RecoveryCodeNotice) => void | Promise<void>
}): SecondFactorSignInOperations {
  const { store, checks, passkeys, accounts, sessions, accessTokens, throttle, audit, refusals, unitOfWork, clock } =
    deps

  async function admit(
    user: UserRecord,
    context: ClientContext,
    describeRefusal: () => AuditEventInput,
  ): Promise<SignInAttempt> {
    try {
      return await throttle.admitSignIn({ username: user.username, ip: context.ip })
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'rate_limited')
        await refusals.recordRefusal(describeRefusal())
      throw error
    }
  }

  /** Settles a checked proof: a refusal (or a replay found while spending it) counts as a failure. */
  async function recordRefusal(attempt: SignInAttempt, event: AuditEventInput): Promise<never> {
    await attempt.recordFailure()
    await audit.record(event)
    throw invalidCode()
  }

  async function notifyRecoveryCodeUse(user: UserRecord, proof: VerifiedProof, context: RequestContext): Promise<void> {
    if (proof.method !== 'recovery_code') return
    const remainingCodes = await store.countRecoveryCodes(user.id)
    try {
      await deps.onRecoveryCodeUsed?.({ user, remainingCodes, context })
    } catch {
      // The use is in the audit trail already; a failed notice must not undo a sign-in.
    }
  }

  /** Spends the proof, or throws the refusal a replay gets (the transaction rolls back). */
  async function spend(change: Change, proof: VerifiedProof): Promise<void> {
    if (!(await proof.spend(change.stores))) throw invalidCode()
  }

  function describeUse(
    user: UserRecord,
    proof: VerifiedProof,
    sessionId: string,
    context: RequestContext,
  ): AuditEventInput[] {
    if (proof.method !== 'recovery_code') return []
    return [
      {
        type: 'recovery_code_used',
        outcome: 'success',
        actorUserId: user.id,
        subjectUserId: user.id,
        sessionId,
        context,
      },
    ]
  }

  return {
    async createSecondStepPasskeyOptions(challenge) {
      const tokenHash = hashToken(challenge)
      const found = await store.findMfaChallenge(tokenHash, clock.now())
      if (!found) throw invalidChallenge()
      return passkeys.createAssertionOptions({ purpose: 'second_factor', userId: found.userId, boundTo: tokenHash })
    },

    async completeSignIn({ challenge, proof, ...client }) {
      const tokenHash = hashToken(challenge)
      const found = await store.findMfaChallenge(tokenHash, clock.now())
      const user = found ? await accounts.findUser(found.userId) : null
      const failure = (reason: AuditEventInput['reason'], extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
        type: 'mfa_failed',
        outcome: 'failure',
        reason,
        subjectUserId: user?.id ?? null,
        username: user?.usernameKey ?? null,
        details: { method: proof.kind },
        context: client,
        ...extra,
      })
      if (!found || !user || user.disabledAt !== null) {
        await refusals.recordRefusal(failure('challenge_invalid'))
        throw invalidChallenge()
      }
      const attempt = await admit(user, client, () => failure('account_throttled'))
      let checked
      try {
        // One attempt of the challenge per check, taken atomically before the check.
        const taken = await store.takeMfaChallengeAttempt(tokenHash, clock.now())
        if (!taken) throw invalidChallenge()
        checked = await checks.checkProof(user.id, proof, {
          purpose: 'second_factor',
          boundTo: tokenHash,
          requireUserVerification: false,
        })
      } catch (error) {
        await undoAfterFailure(error, () => attempt.cancel())
        if (error instanceof TesseraError && error.code === 'invalid_mfa_challenge')
          await refusals.recordRefusal(failure('challenge_invalid'))
        throw error
      }
      if (!isVerified(checked)) return recordRefusal(attempt, failure(checked.reason))
      const verified = checked
      const now = clock.now()
      const authentication: SessionAuthentication = {
        authenticatedAt: now,
        amr: combineMethods(['pwd'], verified.methods),
      }
      const started = await sessions.startSession({
        user,
        transport: found.transport,
        ip: client.ip,
        userAgent: client.userAgent,
        authentication,
      })
      try {
        await unitOfWork.run(async (change) => {
          await spend(change, verified)
          if (!(await change.stores.secondFactors.consumeMfaChallenge(tokenHash, now))) throw invalidChallenge()
          for (const event of describeUse(user, verified, started.session.id, client)) change.record(event)
          const start = describeSessionStart(user, started.session, client)
          change.record({ ...start, details: { ...start.details, method: verified.method } })
        })
      } catch (error) {
        await undoAfterFailure(error, () => sessions.discardSession(started.session).catch(() => {}))
        if (error instanceof TesseraError && error.code === 'invalid_mfa_code') {
          return recordRefusal(attempt, failure(verified.method === 'totp' ? 'code_replayed' : 'bad_code'))
        }
        await undoAfterFailure(error, () => attempt.cancel())
        throw error
      }
      await recordSessionsEndedByLimit({ sessions, unitOfWork }, started, client)
      // The sign-in is committed and its factor spent: a throttle store failing now leaves the
      // attempt counted as a failure (the safe side) rather than withholding the session granted.
      await attempt.recordSuccess().catch(() => {})
      await notifyRecoveryCodeUse(user, verified, client)
      const tokens =
        started.refreshToken === null
          ? null
          : {
              ...(await accessTokens.issueAccessToken({
                userId: user.id,
                username: user.username,
                sessionId: started.session.id,
                roles: user.roles,
                authentication,
              })),
              refreshToken: started.refreshToken,
            }
      return { user, session: started.session, sessionToken: started.sessionToken, tokens }
    },

    createReauthenticationPasskeyOptions: (principal) =>
      passkeys.createAssertionOptions({
        purpose: 'reauthentication',
        userId: principal.user.id,
        boundTo: principal.session.id,
      }),

    async reauthenticate(principal, { password, proof, ...client }) {
      const { user, session } = principal
      const hasSecondFactor = (await checks.findConfirmedTotp(user.id)) !== null
      if (password === undefined && proof === undefined) {
        throw new TesseraError('validation_failed', 'Send the password, a second factor, or both.')
      }
      if (hasSecondFactor && proof === undefined) {
        throw new TesseraError(
          'validation_failed',
          'This account re-authenticates with its second factor: send a code, a recovery code or a passkey.',
        )
      }
      const about = { actorUserId: user.id, subjectUserId: user.id, sessionId: session.id, context: client }
      const failure = (reason: AuditEventInput['reason'], method: string): AuditEventInput => ({
        type: 'reauthentication_failed',
        outcome: 'failure',
        reason,
        details: { method },
        ...about,
      })
      const attempt = await admit(user, client, () => failure('account_throttled', proof?.kind ?? 'password'))
      let checked
      try {
        if (password !== undefined && !(await accounts.authenticateUser({ username: user.username, password }))) {
          await attempt.recordFailure()
          await audit.record(failure('bad_password', 'password'))
          throw new TesseraError('invalid_credentials', 'The password is not correct.')
        }
        checked =
          proof === undefined
            ? null
            : await checks.checkProof(user.id, proof, {
                purpose: 'reauthentication',
                boundTo: session.id,
                requireUserVerification: password === undefined,
              })
      } catch (error) {
        if (!(error instanceof TesseraError && error.code === 'invalid_credentials')) await attempt.cancel()
        throw error
      }
      if (checked && !isVerified(checked)) return recordRefusal(attempt, failure(checked.reason, checked.method))
      const verified = checked
      const now = clock.now()
      const amr = combineMethods(session.amr, password === undefined ? [] : ['pwd'], verified?.methods ?? [])
      try {
        await unitOfWork.run(async (change) => {
          if (verified) await spend(change, verified)
          for (const event of verified ? describeUse(user, verified, session.id, client) : []) change.record(event)
          change.record({
            type: 'reauthenticated',
            outcome: 'success',
            details: { method: verified?.method ?? 'password', amr: amr.join(' ') },
            ...about,
          })
        })
      } catch (error) {
        if (verified && error instanceof TesseraError && error.code === 'invalid_mfa_code') {
          return recordRefusal(
            attempt,
            failure(verified.method === 'totp' ? 'code_replayed' : 'bad_code', verified.method),
          )
        }
        await attempt.cancel()
        throw error
      }
      await attempt.recordSuccess()
      const authentication = { authenticatedAt: now, amr }
      if (!(await sessions.recordReauthentication(session, authentication))) {
        throw new TesseraError('unauthenticated', 'The session has ended; sign in again.')
      }
      if (verified) await notifyRecoveryCodeUse(user, verified, client)
      const renewed = { ...session, authenticatedAt: now, amr }
      const accessToken =
        session.transport === 'token'
          ? await accessTokens.issueAccessToken({
              userId: user.id,
              username: user.username,
              sessionId: session.id,
              roles: user.roles,
              authentication,
            })
          : null
      return { session: renewed, accessToken }
    },
  }
}

/**
 * Passkeys as a signed-in user manages them (register, list, rename, remove), and signing in
 * with one alone: a discoverable credential that verified its user (WebAuthn's UV flag), which
 * is a multi-factor authentication by itself (`amr` hwk or swk, user, mfa). Registering and
 * removing a passkey are sensitive (step-up); renaming is not.
 */
import { undoAfterFailure } from '../undo-after-failure.ts'
import { recordSessionsEndedByLimit } from './session-limit.ts'
import type { Accounts } from '../accounts/accounts.ts'
import type { Audit } from '../audit/audit.ts'
import type { RefusalSummaries } from '../audit/refusal-summaries.ts'
import { describeSessionStart } from '../auth/sign-in-events.ts'
import type { StepUp } from '../auth/step-up.ts'
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import type { Passkeys } from '../passkeys/passkeys.ts'
import type { PasskeyRecord, PasskeyStore } from '../passkeys/store.ts'
import type { RequestContext } from '../request-context.ts'
import { describePasskeyMethods } from '../second-factor/authentication-methods.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { SessionTransport } from '../sessions/store.ts'
import type { AccessTokens } from '../tokens/access-tokens.ts'
import type { UnitOfWork } from '../unit-of-work.ts'
import type { ClientContext, Principal, SignIn } from './sign-in.ts'

export type { PasskeyRecord } from '../passkeys/store.ts'

export interface PasskeyOperations {
  listMyPasskeys(principal: Principal): Promise<PasskeyRecord[]>
  /** Creation options for a new passkey; throws `reauthentication_required`. */
  createRegistrationOptions(principal: Principal): Promise<unknown>
  /** Verifies and stores the browser's attestation; throws `passkey_rejected`. */
  registerPasskey(
    principal: Principal,
    input: { response: unknown; name: string },
    context: RequestContext,
  ): Promise<PasskeyRecord>
  /** Throws `not_found`. */
  renamePasskey(principal: Principal, passkeyId: string, name: string, context: RequestContext): Promise<PasskeyRecord>
  /** Throws `reauthentication_required`, `not_found`. */
  removePasskey(principal: Principal, passkeyId: string, context: RequestContext): Promise<void>
  /** Request options for a sign-in with a discoverable credential (no username). */
  createSignInOptions(): Promise<unknown>
  /** Signs in with a passkey alone; throws `invalid_credentials` for any assertion that does not verify. */
  signInWithPasskey(input: { response: unknown; transport: SessionTransport } & ClientContext): Promise<SignIn>
}

export function createPasskeyOperations(deps: {
  passkeys: Passkeys
  store: PasskeyStore
  accounts: Accounts
  sessions: Sessions
  accessTokens: AccessTokens
  stepUp: StepUp
  audit: Audit
  refusals: RefusalSummaries
  unitOfWork: UnitOfWork
  clock: Clock
}): PasskeyOperations {
  const { passkeys, store, accounts, sessions, accessTokens, stepUp, audit, refusals, unitOfWork, clock } = deps

  function about(principal: Principal, context: RequestContext) {
    return {
      actorUserId: principal.user.id,
      subjectUserId: principal.user.id,
      sessionId: principal.session.id,
      context,
    }
  }

  async function findOwn(principal: Principal, passkeyId: string): Promise<PasskeyRecord> {
    const passkey = await store.findPasskey(passkeyId)
    if (!passkey || passkey.userId !== principal.user.id) throw new TesseraError('not_found', 'No such passkey.')
    return passkey
  }

  return {
    listMyPasskeys: (principal) => store.listUserPasskeys(principal.user.id),

    async createRegistrationOptions(principal) {
      await stepUp.requireRecentAuthentication(principal)
      return passkeys.createRegistrationOptions(principal.user, principal.session.id)
    },

    async registerPasskey(principal, { response, name }, context) {
      let passkey: PasskeyRecord
      try {
        passkey = await passkeys.verifyRegistration(principal.user, principal.session.id, response, name)
      } catch (error) {
        if (error instanceof TesseraError && error.code === 'passkey_rejected') {
          await audit.record({
            type: 'passkey_failed',
            outcome: 'failure',
            reason: 'passkey_rejected',
            details: { phase: 'registration' },
            ...about(principal, context),
          })
        }
        throw error
      }
      await unitOfWork.run(async (change) => {
        if ((await change.stores.passkeys.insertPasskey(passkey)) === 'exists') {
          throw new TesseraError('passkey_rejected', 'This passkey is registered already.')
        }
        change.record({
          type: 'passkey_registered',
          outcome: 'success',
          details: { authenticator_id: passkey.id.slice(0, 64), backup_eligible: passkey.isBackupEligible },
          ...about(principal, context),
        })
      })
      return passkey
    },

    async renamePasskey(principal, passkeyId, name, context) {
      const passkey = await findOwn(principal, passkeyId)
      await unitOfWork.run(async (change) => {
        if (!(await change.stores.passkeys.renamePasskey(principal.user.id, passkeyId, name)))
          throw new TesseraError('not_found', 'No such passkey.')
        change.record({
          type: 'passkey_renamed',
          outcome: 'success',
          details: { authenticator_id: passkeyId.slice(0, 64) },
          ...about(principal, context),
        })
      })
      return { ...passkey, name }
    },

    async removePasskey(principal, passkeyId, context) {
      await stepUp.requireRecentAuthentication(principal)
      await unitOfWork.run(async (change) => {
        if (!(await change.stores.passkeys.deletePasskey(principal.user.id, passkeyId)))
          throw new TesseraError('not_found', 'No such passkey.')
        change.record({
          type: 'passkey_removed',
          outcome: 'success',
          details: { authenticator_id: passkeyId.slice(0, 64) },
          ...about(principal, context),
        })
      })
    },

    createSignInOptions: () => passkeys.createAssertionOptions({ purpose: 'sign_in', userId: null, boundTo: null }),

    async signInWithPasskey({ response, transport, ...client }) {
      const outcome = await passkeys.verifyAssertion(response, {
        purpose: 'sign_in',
        userId: null,
        boundTo: null,
        requireUserVerification: true,
      })
      const user = 'failure' in outcome ? null : await accounts.findUser(outcome.passkey.userId)
      if ('failure' in outcome || !user || user.disabledAt !== null) {
        // Anyone can send assertions at full speed: refusals are summarised, not one row each.
        await refusals.recordRefusal({
          type: 'passkey_failed',
          outcome: 'failure',
          reason:
            'failure' in outcome
              ? outcome.failure === 'counter_regressed'
                ? 'counter_regressed'
                : 'passkey_rejected'
              : 'account_disabled',
          subjectUserId: user?.id ?? null,
          details: { phase: 'sign_in' },
          context: client,
        })
        throw new TesseraError('invalid_credentials', 'The passkey was not accepted.')
      }
      const authentication = {
        authenticatedAt: clock.now(),
        amr: describePasskeyMethods(outcome.passkey, outcome.isUserVerified),
      }
      const started = await sessions.startSession({
        user,
        transport,
        ip: client.ip,
        userAgent: client.userAgent,
        authentication,
      })
      try {
        const start = describeSessionStart(user, started.session, client)
        await audit.record({ ...start, details: { ...start.details, method: 'passkey' } })
      } catch (error) {
        await undoAfterFailure(error, () => sessions.discardSession(started.session).catch(() => {}))
        throw error
      }
      await recordSessionsEndedByLimit({ sessions, unitOfWork }, started, client)
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
  }
}

/**
 * Passkeys (WebAuthn Level 3) through @simplewebauthn/server: registration options and
 * attestation checks for a signed-in user, assertion options and checks for a sign-in with a
 * discoverable credential, for the second step of a sign-in and for a re-authentication.
 *
 * Every ceremony has its own challenge: 32 random bytes, stored (as a SHA-256) with its purpose,
 * its user and what it continues (the MFA challenge or the session), for five minutes, and
 * consumed when a response names it, whether or not the response then verifies. The RP id and the
 * accepted origins come from the settings (the public URL by default), never from the request.
 * Each use must move the signature counter forward (unless the authenticator keeps none), decided
 * in the store, so a cloned authenticator and a replayed assertion are refused.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server'
import type { UserRecord } from '../accounts/store.ts'
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import { randomBytes } from 'node:crypto'
import { hashToken } from '../secrets.ts'
import type { PasskeyRecord, PasskeyStore, WebAuthnChallengeRecord, WebAuthnPurpose } from './store.ts'

export interface PasskeySettings {
  rpId: string
  rpName: string
  /** Origins whose pages may run ceremonies (the public URL origin first). */
  origins: readonly string[]
}

/** Loaded at the first ceremony: the library and its ASN.1 stack cost a start that uses no passkey. */
const loadWebAuthn = () => import('@simplewebauthn/server')

export const ceremonyTimeoutSeconds = 300
export const maxPasskeysPerUser = 20

export interface VerifiedAssertion {
  passkey: PasskeyRecord
  isUserVerified: boolean
}

export interface AssertionExpectation {
  purpose: Exclude<WebAuthnPurpose, 'registration'>
  /** The user the assertion must come from; null for a discoverable sign-in. */
  userId: string | null
  /** The MFA challenge hash or session id the options were made for. */
  boundTo: string | null
  requireUserVerification: boolean
}

export type AssertionFailure = 'unknown_passkey' | 'rejected' | 'counter_regressed'

export interface Passkeys {
  createRegistrationOptions(user: UserRecord, sessionId: string): Promise<PublicKeyCredentialCreationOptionsJSON>
  /** The passkey an attestation registers (not stored yet); throws `passkey_rejected`. */
  verifyRegistration(user: UserRecord, sessionId: string, response: unknown, name: string): Promise<PasskeyRecord>
  createAssertionOptions(
    expectation: Omit<AssertionExpectation, 'requireUserVerification'>,
  ): Promise<PublicKeyCredentialRequestOptionsJSON>
  /** Checks an assertion and records its counter; the passkey, or why not. */
  verifyAssertion(
    response: unknown,
    expectation: AssertionExpectation,
  ): Promise<VerifiedAssertion | { failure: AssertionFailure }>
}

function readCredentialId(response: unknown): string | null {
  const id = (response as { id?: unknown } | null)?.id
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,1366}$/.test(id) ? id : null
}

export function createPasskeys(deps: { store: PasskeyStore; clock: Clock; settings: PasskeySettings }): Passkeys {
  const { store, clock, settings } = deps
  const expectedOrigin = [...settings.origins]

  /** 32 random bytes; stored by the SHA-256 of their base64url form, which client data names. */
  async function storeChallenge(
    record: Omit<WebAuthnChallengeRecord, 'challengeHash' | 'expiresAt'>,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const challenge = Uint8Array.from(randomBytes(32))
    const expiresAt = new Date(clock.now().getTime() + ceremonyTimeoutSeconds * 1000)
    await store.insertWebAuthnChallenge({
      ...record,
      challengeHash: hashToken(Buffer.from(challenge).toString('base64url')),
      expiresAt,
    })
    return challenge
  }

  /** Consumes the challenge a response names; true when it was made for exactly this ceremony. */
  function consumeChallenge(expected: { purpose: WebAuthnPurpose; userId: string | null; boundTo: string | null }) {
    return async (challenge: string): Promise<boolean> => {
      const found = await store.consumeWebAuthnChallenge(hashToken(challenge), clock.now())
      return (
        found !== null &&
        found.purpose === expected.purpose &&
        found.boundTo === expected.boundTo &&
        (found.userId === null || found.userId === expected.userId)
      )
    }
  }

  return {
    async createRegistrationOptions(user, sessionId) {
      const existing = await store.listUserPasskeys(user.id)
      const challenge = await storeChallenge({ purpose: 'registration', userId: user.id, boundTo: sessionId })
      return (await loadWebAuthn()).generateRegistrationOptions({
        rpName: settings.rpName,
        rpID: settings.rpId,
        userName: user.username,
        userDisplayName: user.username,
        // The user handle: the account id (random, no personal data), as WebAuthn §14.6.1 asks.
        userID: new TextEncoder().encode(user.id),
        challenge,
        timeout: ceremonyTimeoutSeconds * 1000,
        attestationType: 'none',
        excludeCredentials: existing.map((passkey) => ({ id: passkey.id, transports: passkey.transports })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      })
    },

    async verifyRegistration(user, sessionId, response, name) {
      const rejected = new TesseraError(
        'passkey_rejected',
        'The passkey could not be verified; start the registration again.',
      )
      if ((await store.listUserPasskeys(user.id)).length >= maxPasskeysPerUser) {
        throw new TesseraError('validation_failed', `An account holds at most ${maxPasskeysPerUser} passkeys.`)
      }
      let verification
      try {
        verification = await (
          await loadWebAuthn()
        ).verifyRegistrationResponse({
          response: response as RegistrationResponseJSON,
          expectedChallenge: consumeChallenge({ purpose: 'registration', userId: user.id, boundTo: sessionId }),
          expectedOrigin,
          expectedRPID: settings.rpId,
          requireUserVerification: false,
        })
      } catch (error) {
        throw new TesseraError('passkey_rejected', rejected.message, { cause: error })
      }
      if (!verification.verified) throw rejected
      const { credential, credentialDeviceType } = verification.registrationInfo
      const now = clock.now()
      return {
        id: credential.id,
        userId: user.id,
        publicKey: Uint8Array.from(credential.publicKey),
        counter: credential.counter,
        transports: [...(credential.transports ?? [])].slice(0, 8),
        isBackupEligible: credentialDeviceType === 'multiDevice',
        name,
        createdAt: now,
        lastUsedAt: null,
      }
    },

    async createAssertionOptions({ purpose, userId, boundTo }) {
      const allowed = userId === null ? [] : await store.listUserPasskeys(userId)
      const challenge = await storeChallenge({ purpose, userId, boundTo })
      return (await loadWebAuthn()).generateAuthenticationOptions({
        rpID: settings.rpId,
        challenge,
        timeout: ceremonyTimeoutSeconds * 1000,
        // Without a list the browser offers the discoverable credentials it holds for the RP.
        allowCredentials: allowed.map((passkey) => ({ id: passkey.id, transports: passkey.transports })),
        userVerification: purpose === 'second_factor' ? 'preferred' : 'required',
      })
    },

    async verifyAssertion(response, expectation) {
      const credentialId = readCredentialId(response)
      const passkey = credentialId === null ? null : await store.findPasskey(credentialId)
      if (!passkey || (expectation.userId !== null && passkey.userId !== expectation.userId)) {
        // The challenge is spent all the same: one assertion attempt per options request.
        await consumeChallenge({ ...expectation, userId: expectation.userId })(readChallenge(response) ?? '')
        return { failure: 'unknown_passkey' }
      }
      let verification
      try {
        verification = await (
          await loadWebAuthn()
        ).verifyAuthenticationResponse({
          response: response as AuthenticationResponseJSON,
          expectedChallenge: consumeChallenge({ ...expectation, userId: passkey.userId }),
          expectedOrigin,
          expectedRPID: settings.rpId,
          credential: {
            id: passkey.id,
            publicKey: Uint8Array.from(passkey.publicKey),
            counter: passkey.counter,
            transports: [],
          },
          requireUserVerification: expectation.requireUserVerification,
        })
      } catch (error) {
        return { failure: /counter/i.test(String((error as Error).message)) ? 'counter_regressed' : 'rejected' }
      }
      if (!verification.verified) return { failure: 'rejected' }
      const { newCounter, userVerified } = verification.authenticationInfo
      if (!(await store.recordPasskeyUse(passkey.id, newCounter, clock.now()))) return { failure: 'counter_regressed' }
      return { passkey: { ...passkey, counter: newCounter }, isUserVerified: userVerified }
    },
  }
}

/** The challenge named in a response's client data, or null (to spend it when the rest is wrong). */
function readChallenge(response: unknown): string | null {
  const encoded = (response as { response?: { clientDataJSON?: unknown } } | null)?.response?.clientDataJSON
  if (typeof encoded !== 'string' || encoded.length > 8192) return null
  try {
    const challenge = (JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as { challenge?: unknown })
      .challenge
    return typeof challenge === 'string' ? challenge : null
  } catch {
    // Not JSON: nothing names a challenge, so none is spent.
    return null
  }
}

/**
 * Passkeys (WebAuthn credentials) and the challenges of their ceremonies. A challenge is taken
 * once: `consumeWebAuthnChallenge` deletes it as it returns it, so an assertion or attestation
 * can never be verified twice against the same challenge.
 */

export type WebAuthnPurpose = 'registration' | 'sign_in' | 'second_factor' | 'reauthentication'

export interface PasskeyRecord {
  /** The credential id, base64url. */
  id: string
  userId: string
  /** The COSE public key as the authenticator gave it. */
  publicKey: Uint8Array
  /** The signature counter last seen (0 for authenticators that keep none). */
  counter: number
  /** Transports the browser reported (usb, nfc, ble, internal, hybrid…), as hints for later ceremonies. */
  transports: string[]
  /** Backup eligible (a synced, multi-device passkey): its key is held in software, `swk` rather than `hwk`. */
  isBackupEligible: boolean
  name: string
  createdAt: Date
  lastUsedAt: Date | null
}

export interface WebAuthnChallengeRecord {
  /** SHA-256 of the challenge sent to the browser. */
  challengeHash: string
  purpose: WebAuthnPurpose
  /** The user the ceremony is for; null for a sign-in with a discoverable credential. */
  userId: string | null
  /** What the ceremony continues: the MFA challenge hash or the session id; null otherwise. */
  boundTo: string | null
  expiresAt: Date
}

export interface PasskeyStore {
  /** Stores a passkey; `exists` when a credential with this id is registered (to anyone). */
  insertPasskey(passkey: PasskeyRecord): Promise<'inserted' | 'exists'>
  findPasskey(id: string): Promise<PasskeyRecord | null>
  /** The user's passkeys, oldest first. */
  listUserPasskeys(userId: string): Promise<PasskeyRecord[]>
  /**
   * Records a use with the authenticator's new counter; false when the counter did not move
   * forward from the stored one (WebAuthn §6.1.1: a cloned authenticator), unless both are 0.
   */
  recordPasskeyUse(id: string, counter: number, usedAt: Date): Promise<boolean>
  renamePasskey(userId: string, id: string, name: string): Promise<boolean>
  deletePasskey(userId: string, id: string): Promise<boolean>
  /** Deletes every passkey of the user; returns how many existed. */
  deleteUserPasskeys(userId: string): Promise<number>
  insertWebAuthnChallenge(challenge: WebAuthnChallengeRecord): Promise<void>
  /** Deletes the challenge and returns it when it has not expired at `now`; null otherwise. */
  consumeWebAuthnChallenge(challengeHash: string, now: Date): Promise<WebAuthnChallengeRecord | null>
  deleteExpiredWebAuthnChallenges(now: Date): Promise<number>
}

/**
 * The durable state of the second factor: each user's TOTP secret (sealed under the master key)
 * with the last time step a code was accepted for, the hashes of their recovery codes, and the
 * challenges of sign-ins waiting for their second step. Every single-use rule is one atomic
 * statement here (a conditional UPDATE or DELETE … RETURNING), so two requests racing with the
 * same code, recovery code or challenge cannot both win, on any backend or node.
 */
import type { SessionTransport } from '../sessions/store.ts'
import type { TotpAlgorithm } from './totp.ts'

export interface TotpRecord {
  /** Random id of this secret: a confirmation applies only to the secret it was shown for. */
  id: string
  userId: string
  /** The secret's bytes, base64url, sealed by the key protector (AES-256-GCM under the master key). */
  secretCiphertext: string
  algorithm: TotpAlgorithm
  digits: number
  periodSeconds: number
  /** The last step whose code was accepted; no code of it or of an earlier step is accepted again. */
  lastUsedStep: number | null
  createdAt: Date
  /** Null while the enrolment waits for its first code. */
  confirmedAt: Date | null
}

export interface MfaChallengeRecord {
  /** SHA-256 of the challenge handed to the client. */
  tokenHash: string
  userId: string
  /** The transport the password step asked for: the session opens on it. */
  transport: SessionTransport
  createdAt: Date
  expiresAt: Date
  /** Second-factor checks this challenge still allows. */
  attemptsLeft: number
}

export interface SecondFactorStore {
  /**
   * Stores a pending TOTP secret for its user, replacing a pending one; false (nothing stored)
   * when the user has a confirmed one.
   */
  savePendingTotp(record: TotpRecord): Promise<boolean>
  /** The user's TOTP record, pending or confirmed, or null. */
  findTotp(userId: string): Promise<TotpRecord | null>
  /**
   * Confirms the pending secret `totpId` with the step its first code matched; false when that
   * secret is no longer the user's pending one.
   */
  confirmTotp(userId: string, totpId: string, step: number, confirmedAt: Date): Promise<boolean>
  /**
   * Records that a code of `step` was accepted for the confirmed secret `totpId`; false (a replay)
   * when a code of that step or a later one was accepted before, or the secret is gone.
   */
  recordTotpStep(userId: string, totpId: string, step: number): Promise<boolean>
  /** Deletes the user's TOTP secret, pending or confirmed; false when there was none. */
  deleteTotp(userId: string): Promise<boolean>
  /** Replaces every recovery code of the user with these hashes (the old set is void at once). */
  replaceRecoveryCodes(userId: string, codeHashes: readonly string[], createdAt: Date): Promise<void>
  /** Marks the unused code with this hash as used; false when there is none (wrong or used). */
  consumeRecoveryCode(userId: string, codeHash: string, usedAt: Date): Promise<boolean>
  /** The hashes of the user's unused recovery codes (to copy them to another store). */
  listRecoveryCodeHashes(userId: string): Promise<string[]>
  /** How many unused recovery codes the user has. */
  countRecoveryCodes(userId: string): Promise<number>
  /** Deletes every recovery code of the user; returns how many existed. */
  deleteRecoveryCodes(userId: string): Promise<number>
  insertMfaChallenge(challenge: MfaChallengeRecord): Promise<void>
  /** The live challenge (not expired at `now`, attempts left), or null. */
  findMfaChallenge(tokenHash: string, now: Date): Promise<MfaChallengeRecord | null>
  /** Takes one attempt of a live challenge; the challenge before the attempt was taken, or null. */
  takeMfaChallengeAttempt(tokenHash: string, now: Date): Promise<MfaChallengeRecord | null>
  /**
   * Deletes an unexpired challenge and returns it, or null (single use). Its attempts are not
   * asked: the caller took one with `takeMfaChallengeAttempt` before checking the factor.
   */
  consumeMfaChallenge(tokenHash: string, now: Date): Promise<MfaChallengeRecord | null>
  /** Deletes the challenges expired at `now`; returns how many. */
  deleteExpiredMfaChallenges(now: Date): Promise<number>
}

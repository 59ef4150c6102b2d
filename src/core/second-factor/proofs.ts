/**
 * Checking a second factor: a TOTP code, a recovery code or a passkey assertion. A check that
 * passes returns its methods (RFC 8176) and the one atomic store step that spends it (the TOTP
 * step recorded, the recovery code marked used), which the caller runs inside the unit of work
 * that opens the session or records the re-authentication: the factor is spent exactly when the
 * change it allows is committed, and of two requests racing with one code only one spends it.
 * A passkey's counter is recorded as it is checked (passkeys.ts); it has nothing left to spend.
 */
import type { Clock } from '../clock.ts'
import type { Passkeys } from '../passkeys/passkeys.ts'
import type { DurableStores } from '../stores.ts'
import type { KeyProtector } from '../tokens/key-protection.ts'
import type { AuditReason } from '../audit/events.ts'
import { describePasskeyMethods, type AuthenticationMethod } from './authentication-methods.ts'
import { hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.ts'
import type { SecondFactorStore, TotpRecord } from './store.ts'
import { findTotpStep } from './totp.ts'

export type SecondFactorProof =
  { kind: 'totp'; code: string } | { kind: 'recovery_code'; code: string } | { kind: 'passkey'; response: unknown }

export type ProofMethod = SecondFactorProof['kind']

export interface VerifiedProof {
  method: ProofMethod
  methods: AuthenticationMethod[]
  /** Spends the factor inside a unit of work; false when it was spent meanwhile (a replay). */
  spend(stores: DurableStores): Promise<boolean>
}

export interface RefusedProof {
  method: ProofMethod
  reason: Extract<AuditReason, 'bad_code' | 'code_replayed' | 'passkey_rejected' | 'counter_regressed'>
}

export interface ProofChecks {
  /** The user's confirmed TOTP secret, or null. */
  findConfirmedTotp(userId: string): Promise<TotpRecord | null>
  checkProof(
    userId: string,
    proof: SecondFactorProof,
    passkeyCeremony: {
      purpose: 'second_factor' | 'reauthentication'
      boundTo: string
      requireUserVerification: boolean
    },
  ): Promise<VerifiedProof | RefusedProof>
}

export function isVerified(outcome: VerifiedProof | RefusedProof): outcome is VerifiedProof {
  return 'spend' in outcome
}

/** Opens a sealed TOTP secret (its bytes are sealed as base64url text). */
export function openTotpSecret(protector: KeyProtector, record: TotpRecord): Uint8Array {
  return Uint8Array.from(Buffer.from(protector.open(record.secretCiphertext), 'base64url'))
}

export function createProofChecks(deps: {
  store: SecondFactorStore
  passkeys: Passkeys
  protector: KeyProtector
  clock: Clock
}): ProofChecks {
  const { store, passkeys, protector, clock } = deps

  async function findConfirmedTotp(userId: string): Promise<TotpRecord | null> {
    const record = await store.findTotp(userId)
    return record?.confirmedAt ? record : null
  }

  return {
    findConfirmedTotp,

    async checkProof(userId, proof, passkeyCeremony) {
      const now = clock.now()
      if (proof.kind === 'totp') {
        const record = await findConfirmedTotp(userId)
        if (!record) return { method: 'totp', reason: 'bad_code' }
        const secret = openTotpSecret(protector, record)
        const step = findTotpStep(secret, proof.code, now.getTime(), { ...record, lastUsedStep: record.lastUsedStep })
        if (step === null) {
          // A code of an already used step is a replay; anything else is simply wrong.
          const anyStep = findTotpStep(secret, proof.code, now.getTime(), { ...record, lastUsedStep: null })
          return { method: 'totp', reason: anyStep === null ? 'bad_code' : 'code_replayed' }
        }
        return {
          method: 'totp',
          methods: ['otp'],
          spend: (stores) => stores.secondFactors.recordTotpStep(userId, record.id, step),
        }
      }
      if (proof.kind === 'recovery_code') {
        const normalized = normalizeRecoveryCode(proof.code)
        if (normalized === null) return { method: 'recovery_code', reason: 'bad_code' }
        const codeHash = hashRecoveryCode(normalized)
        return {
          method: 'recovery_code',
          methods: ['otp'],
          spend: (stores) => stores.secondFactors.consumeRecoveryCode(userId, codeHash, now),
        }
      }
      const outcome = await passkeys.verifyAssertion(proof.response, { ...passkeyCeremony, userId })
      if ('failure' in outcome) {
        return {
          method: 'passkey',
          reason: outcome.failure === 'counter_regressed' ? 'counter_regressed' : 'passkey_rejected',
        }
      }
      return {
        method: 'passkey',
        methods: describePasskeyMethods(outcome.passkey, outcome.isUserVerified),
        spend: async () => true,
      }
    },
  }
}

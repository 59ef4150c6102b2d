export type SigningAlgorithm = 'EdDSA' | 'ES256'

export interface SigningKeyRecord {
  kid: string
  algorithm: SigningAlgorithm
  /** Public JWK as JSON text. */
  publicJwk: string
  /** Private JWK encrypted with the instance's master key (never stored in clear). */
  privateJwkCiphertext: string
  createdAt: Date
  /** From this instant the key signs new tokens. */
  activatesAt: Date
  /** From this instant the key no longer verifies; null while in service. */
  retiresAt: Date | null
}

export interface SigningKeyStore {
  /** Inserts a key; the kid is unique. */
  insertSigningKey(key: SigningKeyRecord): Promise<void>
  /** Every key not yet retired at `now`, oldest first. */
  listUsableSigningKeys(now: Date): Promise<SigningKeyRecord[]>
}

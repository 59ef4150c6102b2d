/**
 * The key ring: signing keys from the store, the newest activated one signing, every
 * unretired one verifying. Verification keys are looked up by `kid` in a Map, never in an
 * object, a file or a query, so a hostile `kid` can only miss.
 */
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { KeyProtector } from './key-protection.ts'
import type { SigningAlgorithm, SigningKeyRecord, SigningKeyStore } from './store.ts'

export interface PublicJwk extends JWK {
  kid: string
  alg: SigningAlgorithm
  use: 'sig'
}

export interface SigningKey {
  kid: string
  algorithm: SigningAlgorithm
  privateKey: CryptoKey
}

export interface KeyRing {
  /** Loads the keys from the store, creating the first one when there is none. */
  loadKeys(): Promise<void>
  /** The key new tokens are signed with. */
  currentSigningKey(): SigningKey
  /** The public key for `kid`, or null when the kid is unknown or retired. */
  findVerificationKey(kid: string): { algorithm: SigningAlgorithm; publicKey: CryptoKey } | null
  /** The published JSON Web Key Set (public parts only). */
  publicJwks(): { keys: PublicJwk[] }
}

function curveOf(algorithm: SigningAlgorithm): { crv: string } {
  return algorithm === 'EdDSA' ? { crv: 'Ed25519' } : { crv: 'P-256' }
}

export async function createSigningKeyRecord(
  algorithm: SigningAlgorithm,
  protector: KeyProtector,
  now: Date,
): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair(algorithm, { ...curveOf(algorithm), extractable: true })
  const kid = randomUUID()
  const publicJwk: PublicJwk = { ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' }
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: algorithm }
  return {
    kid,
    algorithm,
    publicJwk: JSON.stringify(publicJwk),
    privateJwkCiphertext: protector.seal(JSON.stringify(privateJwk)),
    createdAt: now,
    activatesAt: now,
    retiresAt: null,
  }
}

export function createKeyRing(deps: {
  store: SigningKeyStore
  clock: Clock
  protector: KeyProtector
  algorithm: SigningAlgorithm
}): KeyRing {
  const { store, clock, protector, algorithm } = deps
  let signing: SigningKey | null = null
  let verification = new Map<string, { algorithm: SigningAlgorithm; publicKey: CryptoKey }>()
  let jwks: PublicJwk[] = []

  return {
    async loadKeys() {
      const now = clock.now()
      let records = await store.listUsableSigningKeys(now)
      if (!records.some((record) => record.activatesAt <= now)) {
        await store.insertSigningKey(await createSigningKeyRecord(algorithm, protector, now))
        records = await store.listUsableSigningKeys(now)
      }
      const nextVerification = new Map<string, { algorithm: SigningAlgorithm; publicKey: CryptoKey }>()
      const nextJwks: PublicJwk[] = []
      for (const record of records) {
        const publicJwk = JSON.parse(record.publicJwk) as PublicJwk
        const publicKey = (await importJWK(publicJwk, record.algorithm)) as CryptoKey
        nextVerification.set(record.kid, { algorithm: record.algorithm, publicKey })
        nextJwks.push(publicJwk)
      }
      const active = records.filter((record) => record.activatesAt <= now).at(-1)
      if (!active) throw new Error('no active signing key')
      const privateJwk = JSON.parse(protector.open(active.privateJwkCiphertext)) as JWK
      signing = {
        kid: active.kid,
        algorithm: active.algorithm,
        privateKey: (await importJWK(privateJwk, active.algorithm)) as CryptoKey,
      }
      verification = nextVerification
      jwks = nextJwks
    },

    currentSigningKey() {
      if (!signing) throw new TypeError('loadKeys() must run before signing')
      return signing
    },

    findVerificationKey: (kid) => verification.get(kid) ?? null,

    publicJwks: () => ({ keys: jwks }),
  }
}

/**
 * The key ring: signing keys from the store. Rotation publishes a new key at once and lets it
 * sign only after `keyActivationDelaySeconds`, longer than verifiers cache the JWKS, so no
 * verifier meets a `kid` it has not seen. The keys it replaces stop signing when it activates
 * and retire once every token they signed has expired (activation + access-token TTL + leeway):
 * only then do they leave the JWKS and stop verifying.
 *
 * Which key signs and which verify is decided on every call from the clock, so activation and
 * retirement happen at their instant without any reload; `loadKeys()` only picks up keys added
 * by another process (the CLI) and is called on a short interval. Verification keys are looked
 * up by `kid` in a Map, never in an object, a file or a query, so a hostile `kid` can only miss.
 */
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto'
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
  /** The same private key for node:crypto, which signs without the thread pool (compact-jws.ts). */
  privateKeyObject: KeyObject
}

export interface KeyRingSettings {
  signingAlgorithm: SigningAlgorithm
  keyActivationDelaySeconds: number
  accessTokenTtlSeconds: number
  leewaySeconds: number
}

/** `pending`: published, not signing yet. `active`: signs new tokens. `retiring`: verifies only. */
export type SigningKeyState = 'pending' | 'active' | 'retiring'

export interface SigningKeyView {
  kid: string
  algorithm: SigningAlgorithm
  state: SigningKeyState
  createdAt: Date
  activatesAt: Date
  /** When it leaves the JWKS; null while no newer key replaces it. */
  retiresAt: Date | null
}

export interface KeyRing {
  /** Loads the keys from the store, creating an active one when there is none. */
  loadKeys(): Promise<void>
  /** The key new tokens are signed with now. */
  currentSigningKey(): SigningKey
  /** The public key for `kid`, or null when the kid is unknown or retired. */
  findVerificationKey(kid: string): { algorithm: SigningAlgorithm; publicKey: CryptoKey } | null
  /** The published JSON Web Key Set (public parts only): pending, active and retiring keys. */
  publicJwks(): { keys: PublicJwk[] }
  /** Every published key and its state now. */
  listKeys(): SigningKeyView[]
  /**
   * Generates the key a rotation publishes; nothing is stored yet (`storeRotation` does, in a
   * unit of work). The new key signs after the activation delay and its predecessors retire
   * once their last tokens expire. `emergency` (a key may have leaked): the new key signs at once
   * and every other key retires at once, so the tokens they signed stop verifying now; sessions
   * live on and their next refresh gets a token from the new key.
   */
  prepareRotation(options?: RotateKeysOptions): Promise<KeyRotation>
  /** Stores a prepared rotation through `store` (a unit of work's). */
  storeRotation(store: SigningKeyStore, rotation: KeyRotation): Promise<void>
  /** A loaded key as listed, or null when it is not (yet) loaded. */
  describeKey(kid: string): SigningKeyView | null
  /** Deletes retired keys from the store, private parts included; returns how many. */
  deleteRetiredKeys(): Promise<number>
}

export interface RotateKeysOptions {
  algorithm?: SigningAlgorithm | undefined
  emergency?: boolean | undefined
}

export interface KeyRotation {
  record: SigningKeyRecord
  isEmergency: boolean
  /** When the keys it replaces retire (emergency: now). */
  retiresOthersAt: Date
}

interface LoadedKey {
  record: SigningKeyRecord
  publicJwk: PublicJwk
  publicKey: CryptoKey
  privateKey: CryptoKey
  privateKeyObject: KeyObject
}

/** Key generation per algorithm. RSA keys are 2048-bit: the floor of RFC 7518 §3.3, and what gateways expect. */
function keyOptionsOf(algorithm: SigningAlgorithm): { crv: string } | { modulusLength: number } {
  if (algorithm === 'RS256') return { modulusLength: 2048 }
  return algorithm === 'EdDSA' ? { crv: 'Ed25519' } : { crv: 'P-256' }
}

export async function createSigningKeyRecord(
  algorithm: SigningAlgorithm,
  protector: KeyProtector,
  now: Date,
  activatesAt: Date = now,
): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair(algorithm, { ...keyOptionsOf(algorithm), extractable: true })
  const kid = randomUUID()
  const publicJwk: PublicJwk = { ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' }
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: algorithm }
  return {
    kid,
    algorithm,
    publicJwk: JSON.stringify(publicJwk),
    privateJwkCiphertext: protector.seal(JSON.stringify(privateJwk)),
    createdAt: now,
    activatesAt,
    retiresAt: null,
  }
}

export function createKeyRing(deps: {
  store: SigningKeyStore
  clock: Clock
  protector: KeyProtector
  settings: KeyRingSettings
}): KeyRing {
  const { store, clock, protector, settings } = deps
  // Oldest activation first, as the store lists them: the last activated one signs.
  let loaded: LoadedKey[] = []
  let byKid = new Map<string, LoadedKey>()

  const isRetired = (key: LoadedKey, nowMs: number) =>
    key.record.retiresAt !== null && key.record.retiresAt.getTime() <= nowMs
  const isActivated = (key: LoadedKey, nowMs: number) => key.record.activatesAt.getTime() <= nowMs

  function findSigningKey(nowMs: number): LoadedKey | null {
    for (let index = loaded.length - 1; index >= 0; index -= 1) {
      const key = loaded[index]
      if (key && isActivated(key, nowMs) && !isRetired(key, nowMs)) return key
    }
    return null
  }

  async function importKey(record: SigningKeyRecord): Promise<LoadedKey> {
    const publicJwk = JSON.parse(record.publicJwk) as PublicJwk
    const privateJwk = JSON.parse(protector.open(record.privateJwkCiphertext)) as JWK
    return {
      record,
      publicJwk,
      publicKey: (await importJWK(publicJwk, record.algorithm)) as CryptoKey,
      privateKey: (await importJWK(privateJwk, record.algorithm)) as CryptoKey,
      privateKeyObject: createPrivateKey({ key: privateJwk, format: 'jwk' }),
    }
  }

  async function readKeys(now: Date): Promise<void> {
    const records = await store.listUsableSigningKeys(now)
    const next: LoadedKey[] = []
    for (const record of records) {
      const known = byKid.get(record.kid)
      // A known key only ever gains a retirement instant; its key material never changes.
      next.push(known ? { ...known, record } : await importKey(record))
    }
    loaded = next
    byKid = new Map(next.map((key) => [key.record.kid, key]))
  }

  function describeKey(key: LoadedKey, nowMs: number, signingKid: string | undefined): SigningKeyView {
    const state: SigningKeyState =
      key.record.kid === signingKid ? 'active' : isActivated(key, nowMs) ? 'retiring' : 'pending'
    const { kid, algorithm, createdAt, activatesAt, retiresAt } = key.record
    return { kid, algorithm, state, createdAt, activatesAt, retiresAt }
  }

  return {
    async loadKeys() {
      const now = clock.now()
      await readKeys(now)
      if (findSigningKey(now.getTime()) === null) {
        await store.insertSigningKey(await createSigningKeyRecord(settings.signingAlgorithm, protector, now))
        await readKeys(now)
      }
    },

    currentSigningKey() {
      const key = findSigningKey(clock.now().getTime())
      if (!key) throw new TypeError('loadKeys() must run before signing')
      const { record, privateKey, privateKeyObject } = key
      return { kid: record.kid, algorithm: record.algorithm, privateKey, privateKeyObject }
    },

    findVerificationKey(kid) {
      const key = byKid.get(kid)
      if (!key || isRetired(key, clock.now().getTime())) return null
      return { algorithm: key.record.algorithm, publicKey: key.publicKey }
    },

    publicJwks() {
      const nowMs = clock.now().getTime()
      return { keys: loaded.filter((key) => !isRetired(key, nowMs)).map((key) => key.publicJwk) }
    },

    listKeys() {
      const nowMs = clock.now().getTime()
      const signingKid = findSigningKey(nowMs)?.record.kid
      return loaded.filter((key) => !isRetired(key, nowMs)).map((key) => describeKey(key, nowMs, signingKid))
    },

    async prepareRotation(options = {}) {
      const now = clock.now()
      const algorithm = options.algorithm ?? settings.signingAlgorithm
      if (options.emergency) {
        return {
          record: await createSigningKeyRecord(algorithm, protector, now, now),
          isEmergency: true,
          retiresOthersAt: now,
        }
      }
      const activatesAt = new Date(now.getTime() + settings.keyActivationDelaySeconds * 1000)
      // The keys it replaces sign until `activatesAt`; their last tokens expire one TTL later,
      // and verifiers accept them for the leeway beyond that.
      const lastTokenEndMs = activatesAt.getTime() + (settings.accessTokenTtlSeconds + settings.leewaySeconds) * 1000
      const record = await createSigningKeyRecord(algorithm, protector, now, activatesAt)
      return { record, isEmergency: false, retiresOthersAt: new Date(lastTokenEndMs) }
    },

    async storeRotation(target, rotation) {
      if (rotation.isEmergency) await target.replaceSigningKeys(rotation.record, rotation.retiresOthersAt)
      else await target.rotateSigningKey(rotation.record, rotation.retiresOthersAt)
    },

    describeKey(kid) {
      const key = byKid.get(kid)
      if (!key) return null
      const nowMs = clock.now().getTime()
      return describeKey(key, nowMs, findSigningKey(nowMs)?.record.kid)
    },

    deleteRetiredKeys() {
      return store.deleteRetiredSigningKeys(clock.now())
    },
  }
}

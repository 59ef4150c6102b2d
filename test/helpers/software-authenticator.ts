/**
 * A small WebAuthn authenticator in software, for tests that need real WebAuthn data without a
 * browser: an ES256 key pair from WebCrypto per credential, authenticator data built by hand
 * (RP id hash, flags, signature counter, attested credential data), the attestation object and
 * the COSE public key CBOR-encoded by hand (the few CBOR types they need), attestation "none",
 * and assertions signed over authenticatorData ‖ SHA-256(clientDataJSON) as WebAuthn §6.3.3 says.
 */
import { createHash, randomBytes, webcrypto } from 'node:crypto'

type Json = Record<string, any>

function encodeLength(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length])
  if (length < 256) return Buffer.from([(major << 5) | 24, length])
  return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff])
}

/** CBOR for text keys and values, byte strings, small integers and maps. */
function encodeCbor(value: unknown): Buffer {
  if (typeof value === 'number') return value >= 0 ? encodeLength(0, value) : encodeLength(1, -1 - value)
  if (typeof value === 'string') return Buffer.concat([encodeLength(3, Buffer.byteLength(value)), Buffer.from(value)])
  if (value instanceof Uint8Array) return Buffer.concat([encodeLength(2, value.length), Buffer.from(value)])
  if (value instanceof Map) {
    const parts = [encodeLength(5, value.size)]
    for (const [key, item] of value) parts.push(encodeCbor(key), encodeCbor(item))
    return Buffer.concat(parts)
  }
  throw new TypeError('unsupported CBOR value')
}

/** A DER ECDSA signature from WebCrypto's raw r ‖ s (WebAuthn wants DER for ES256). */
function toDerSignature(raw: Uint8Array): Buffer {
  const integer = (bytes: Uint8Array) => {
    let start = 0
    while (start < bytes.length - 1 && bytes[start] === 0) start += 1
    let body = Buffer.from(bytes.subarray(start))
    if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body])
    return Buffer.concat([Buffer.from([0x02, body.length]), body])
  }
  const sequence = Buffer.concat([integer(raw.subarray(0, 32)), integer(raw.subarray(32))])
  return Buffer.concat([Buffer.from([0x30, sequence.length]), sequence])
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest()
const base64url = (data: Uint8Array | string) => Buffer.from(data).toString('base64url')

export interface AuthenticatorOptions {
  origin: string
  /** Synced passkey (WebAuthn BE and BS flags): Tessera says `swk` for it. */
  isBackupEligible?: boolean
  /** Whether the authenticator verifies its user (UV flag). */
  verifiesUser?: boolean
  /** How much the counter moves per assertion; 0 for an authenticator without counters. */
  counterStep?: number
}

interface StoredCredential {
  id: Uint8Array
  keys: webcrypto.CryptoKeyPair
  userHandle: string
  rpId: string
  counter: number
}

export interface SoftwareAuthenticator {
  /** Answers creation options as `navigator.credentials.create()` + `toJSON()` would. */
  register(options: Json): Promise<Json>
  /** Answers request options with the credential it holds for the RP (the newest, or `credentialId`). */
  assert(
    options: Json,
    overrides?: { credentialId?: string; counter?: number; origin?: string; verifiesUser?: boolean },
  ): Promise<Json>
  credentialIds(): string[]
}

export function createSoftwareAuthenticator(settings: AuthenticatorOptions): SoftwareAuthenticator {
  const credentials: StoredCredential[] = []
  const counterStep = settings.counterStep ?? 1

  function flags(verifiesUser: boolean, attested: boolean): number {
    let value = 0x01
    if (verifiesUser) value |= 0x04
    if (settings.isBackupEligible) value |= 0x08 | 0x10
    if (attested) value |= 0x40
    return value
  }

  function authenticatorData(rpId: string, flagByte: number, counter: number, attested: Buffer | null): Buffer {
    const counterBytes = Buffer.alloc(4)
    counterBytes.writeUInt32BE(counter)
    return Buffer.concat([sha256(rpId), Buffer.from([flagByte]), counterBytes, attested ?? Buffer.alloc(0)])
  }

  function clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }))
  }

  return {
    credentialIds: () => credentials.map((credential) => base64url(credential.id)),

    async register(options) {
      const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
      const jwk = await webcrypto.subtle.exportKey('jwk', keys.publicKey)
      const id = Uint8Array.from(randomBytes(32))
      const rpId = String(options.rp.id)
      const credential: StoredCredential = { id, keys, userHandle: String(options.user.id), rpId, counter: 0 }
      const coseKey = encodeCbor(
        new Map<number, unknown>([
          [1, 2],
          [3, -7],
          [-1, 1],
          [-2, Buffer.from(String(jwk.x), 'base64url')],
          [-3, Buffer.from(String(jwk.y), 'base64url')],
        ]),
      )
      const idLength = Buffer.from([id.length >> 8, id.length & 0xff])
      const attested = Buffer.concat([Buffer.alloc(16), idLength, id, coseKey])
      const authData = authenticatorData(rpId, flags(settings.verifiesUser ?? true, true), credential.counter, attested)
      const attestationObject = encodeCbor(
        new Map<string, unknown>([
          ['fmt', 'none'],
          ['attStmt', new Map()],
          ['authData', authData],
        ]),
      )
      credentials.push(credential)
      return {
        id: base64url(id),
        rawId: base64url(id),
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: base64url(clientData('webauthn.create', String(options.challenge), settings.origin)),
          attestationObject: base64url(attestationObject),
          transports: ['internal'],
        },
      }
    },

    async assert(options, overrides = {}) {
      const rpId = String(options.rpId)
      const credential = overrides.credentialId
        ? credentials.find((candidate) => base64url(candidate.id) === overrides.credentialId)
        : credentials.filter((candidate) => candidate.rpId === rpId).at(-1)
      if (!credential) throw new Error('no credential for this RP')
      credential.counter = overrides.counter ?? credential.counter + counterStep
      const authData = authenticatorData(
        rpId,
        flags(overrides.verifiesUser ?? settings.verifiesUser ?? true, false),
        credential.counter,
        null,
      )
      const clientDataJSON = clientData('webauthn.get', String(options.challenge), overrides.origin ?? settings.origin)
      const signed = Buffer.concat([authData, sha256(clientDataJSON)])
      const raw = new Uint8Array(
        await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, credential.keys.privateKey, signed),
      )
      return {
        id: base64url(credential.id),
        rawId: base64url(credential.id),
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: base64url(clientDataJSON),
          authenticatorData: base64url(authData),
          signature: base64url(toDerSignature(raw)),
          userHandle: credential.userHandle,
        },
      }
    },
  }
}

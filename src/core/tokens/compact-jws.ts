/**
 * Signing an access token on the event loop. jose signs through WebCrypto, whose every call is
 * a job on libuv's thread pool: for Ed25519 the round trip (key checks, algorithm
 * normalisation, the hand-over and the wake-up) costs more than the signature itself, about
 * 90 µs of CPU per token against 35 µs for `crypto.sign` (measured on the two-core reference
 * machine), and a token then waits behind any password hash queued on the same pool. Ed25519
 * and P-256 signatures take tens of microseconds, so they are made in place; an RSA-2048
 * signature takes about a millisecond, which would hold every other request, so RS256 stays
 * with jose on the pool.
 *
 * Only signing lives here, and only of a JWS compact serialization whose header and claims
 * Tessera itself writes: the bytes are the ones jose produces for the same header and claims
 * (a test compares them), and every verification stays with jose.
 */
import { sign, type KeyObject } from 'node:crypto'
import type { SigningAlgorithm } from './store.ts'

/** The algorithms signed on the event loop; the others go through jose. */
export type InPlaceAlgorithm = Exclude<SigningAlgorithm, 'RS256'>

export function isSignedInPlace(algorithm: SigningAlgorithm): algorithm is InPlaceAlgorithm {
  return algorithm !== 'RS256'
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/**
 * `header.claims.signature`, each base64url (RFC 7515 §7.1). ES256 signatures are the raw
 * 64-byte R‖S that JWS requires (RFC 7518 §3.4), not DER.
 */
export function signCompactJws(
  header: { alg: InPlaceAlgorithm } & Record<string, unknown>,
  claims: Record<string, unknown>,
  privateKey: KeyObject,
): string {
  const signingInput = `${encodeSegment(header)}.${encodeSegment(claims)}`
  const data = Buffer.from(signingInput, 'ascii')
  const signature =
    header.alg === 'EdDSA'
      ? sign(null, data, privateKey)
      : sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return `${signingInput}.${signature.toString('base64url')}`
}

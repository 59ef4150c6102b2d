import { hash, randomBytes, timingSafeEqual } from 'node:crypto'

/** A new random token of `byteLength` CSPRNG bytes, base64url without padding. */
export function createRandomToken(byteLength = 32): string {
  return randomBytes(byteLength).toString('base64url')
}

/** SHA-256 of a token, base64url. Stores keep only this, never the token itself. */
export function hashToken(token: string): string {
  return hash('sha256', token, 'base64url')
}

/** Compares two secrets in time that depends only on their lengths. */
export function secretsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8')
  const right = Buffer.from(b, 'utf8')
  if (left.length !== right.length) {
    // Compare against itself so the work done does not depend on where the inputs differ.
    timingSafeEqual(left, left)
    return false
  }
  return timingSafeEqual(left, right)
}

/**
 * One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238) over Node's HMAC, with the base32
 * secrets and `otpauth://` URIs authenticator apps read. Pure functions: no clock, no store. A
 * code is checked against the steps around now (±`driftSteps`); which of those steps it matched
 * is returned, so the caller can record it and refuse any code of that step or an earlier one
 * (RFC 6238 §5.2: a verifier must not accept the same OTP twice).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512'

export interface TotpParameters {
  algorithm: TotpAlgorithm
  digits: number
  periodSeconds: number
}

/** What authenticator apps assume when the URI says nothing else (and what Tessera issues). */
export const defaultTotpParameters: TotpParameters = { algorithm: 'SHA1', digits: 6, periodSeconds: 30 }

/** Steps accepted on either side of now: one step of clock drift each way. */
export const totpDriftSteps = 1

const nodeHashNames: Record<TotpAlgorithm, string> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' }

/** The HOTP value of `counter` (RFC 4226 §5.3: dynamic truncation, then modulo 10^digits). */
export function generateHotp(
  secret: Uint8Array,
  counter: number,
  digits = 6,
  algorithm: TotpAlgorithm = 'SHA1',
): string {
  if (!Number.isSafeInteger(counter) || counter < 0)
    throw new TypeError('the HOTP counter must be a non-negative integer')
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) throw new TypeError('HOTP codes have 6 to 10 digits')
  const message = Buffer.alloc(8)
  message.writeBigUInt64BE(BigInt(counter))
  const mac = createHmac(nodeHashNames[algorithm], secret).update(message).digest()
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f
  const binary = mac.readUInt32BE(offset) & 0x7fffffff
  return String(binary % 10 ** digits).padStart(digits, '0')
}

/** The TOTP time step of an instant (RFC 6238 §4.2, T0 = 0). */
export function computeTotpStep(atMs: number, periodSeconds: number): number {
  return Math.floor(atMs / 1000 / periodSeconds)
}

export function generateTotp(
  secret: Uint8Array,
  atMs: number,
  parameters: TotpParameters = defaultTotpParameters,
): string {
  return generateHotp(secret, computeTotpStep(atMs, parameters.periodSeconds), parameters.digits, parameters.algorithm)
}

/**
 * The step among now ± drift whose code is `code`, taking only steps after `lastUsedStep`; null
 * when none matches. Every candidate is compared, in constant time, whatever matched first.
 */
export function findTotpStep(
  secret: Uint8Array,
  code: string,
  atMs: number,
  options: TotpParameters & { lastUsedStep: number | null },
): number | null {
  if (!new RegExp(`^\\d{${options.digits}}$`).test(code)) return null
  const current = computeTotpStep(atMs, options.periodSeconds)
  const presented = Buffer.from(code, 'ascii')
  let found: number | null = null
  for (let step = current - totpDriftSteps; step <= current + totpDriftSteps; step += 1) {
    if (step < 0) continue
    const expected = Buffer.from(generateHotp(secret, step, options.digits, options.algorithm), 'ascii')
    const isMatch = timingSafeEqual(expected, presented)
    if (isMatch && found === null && (options.lastUsedStep === null || step > options.lastUsedStep)) found = step
  }
  return found
}

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** RFC 4648 base32 without padding (the form authenticator apps take). */
export function encodeBase32(bytes: Uint8Array): string {
  let bits = 0
  let value = 0
  let text = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      text += base32Alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) text += base32Alphabet[(value << (5 - bits)) & 31]
  return text
}

export function decodeBase32(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '').toUpperCase()
  const bytes: number[] = []
  let bits = 0
  let value = 0
  for (const character of clean) {
    const index = base32Alphabet.indexOf(character)
    if (index < 0) throw new TypeError('not base32')
    value = (value << 5) | index
    bits += 5
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Uint8Array.from(bytes)
}

/**
 * The Key URI of the secret (the format authenticator apps scan: `otpauth://totp/Issuer:account?…`).
 * The issuer is repeated as a parameter, as the format recommends, so apps that read only one agree.
 */
export function buildOtpauthUri(input: {
  secret: Uint8Array
  issuer: string
  accountName: string
  parameters?: TotpParameters
}): string {
  const parameters = input.parameters ?? defaultTotpParameters
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.accountName)}`
  const query = new URLSearchParams({
    secret: encodeBase32(input.secret),
    issuer: input.issuer,
    algorithm: parameters.algorithm,
    digits: String(parameters.digits),
    period: String(parameters.periodSeconds),
  })
  return `otpauth://totp/${label}?${query.toString().replaceAll('+', '%20')}`
}

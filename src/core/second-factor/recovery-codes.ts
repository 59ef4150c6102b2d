/**
 * Recovery codes: ten single-use codes handed out once, when the second factor is enrolled (and
 * again when the user asks for a new set, which voids the old one). Each is 16 characters of
 * Crockford's base32, 80 random bits, shown as four groups of four.
 *
 * The store keeps their SHA-256 only. A slow hash (argon2id) protects secrets people choose,
 * which an attacker holding the hashes can enumerate; at 80 random bits there is nothing to
 * enumerate (2^79 hashes on average per code), so a slow hash would add nothing but latency. A
 * fast, deterministic hash also lets the store find and consume a code in one atomic statement.
 */
import { randomInt } from 'node:crypto'
import { hashToken } from '../secrets.ts'

export const recoveryCodeCount = 10

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz'
const codeLength = 16

function createRecoveryCode(): string {
  let code = ''
  for (let index = 0; index < codeLength; index += 1) code += alphabet[randomInt(alphabet.length)]
  return code.match(/.{4}/g)?.join('-') ?? code
}

export function createRecoveryCodes(): string[] {
  return Array.from({ length: recoveryCodeCount }, createRecoveryCode)
}

/**
 * The code as stored, whatever the user typed: case, spaces and dashes are ignored, and the
 * letters Crockford's alphabet leaves out read as the digits they look like (i, l → 1; o → 0).
 * Null when it cannot be a recovery code (the store is then not asked at all).
 */
export function normalizeRecoveryCode(input: string): string | null {
  if (input.length > 64) return null
  const compact = input.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0')
  if (compact.length !== codeLength || [...compact].some((character) => !alphabet.includes(character))) return null
  return compact
}

export function hashRecoveryCode(normalized: string): string {
  return hashToken(normalized)
}

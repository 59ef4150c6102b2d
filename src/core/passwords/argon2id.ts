/**
 * Password hashing with argon2id through Node's own `crypto.argon2`, stored as a PHC string
 * (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) so every hash carries the parameters it was made with
 * and can be upgraded when the configured parameters rise.
 */
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto'

export interface Argon2Parameters {
  memoryKiB: number
  passes: number
  parallelism: number
}

const saltByteLength = 16
const tagByteLength = 32
const phcPattern =
  /^\$argon2id\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]{11,128})\$([A-Za-z0-9+/]{22,256})$/

interface ParsedPhc {
  parameters: Argon2Parameters
  salt: Buffer
  tag: Buffer
}

function deriveTag(
  password: string,
  salt: Uint8Array,
  parameters: Argon2Parameters,
  tagLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: Buffer.from(password, 'utf8'),
        nonce: salt,
        memory: parameters.memoryKiB,
        passes: parameters.passes,
        parallelism: parameters.parallelism,
        tagLength,
      },
      (error, derived) => (error ? reject(error) : resolve(derived)),
    )
  })
}

function encodeUnpadded(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '')
}

/** Reads a PHC string; null when it is not an argon2id hash this module can verify. */
export function parseArgon2idPhc(phc: string): ParsedPhc | null {
  const match = phcPattern.exec(phc)
  if (!match) return null
  const [, memory, passes, parallelism, salt, tag] = match
  return {
    parameters: {
      memoryKiB: Number(memory),
      passes: Number(passes),
      parallelism: Number(parallelism),
    },
    salt: Buffer.from(salt ?? '', 'base64'),
    tag: Buffer.from(tag ?? '', 'base64'),
  }
}

/** Hashes a password with a fresh 16-byte salt; runs on libuv's pool, never on the event loop. */
export async function hashPassword(password: string, parameters: Argon2Parameters): Promise<string> {
  const salt = randomBytes(saltByteLength)
  const tag = await deriveTag(password, salt, parameters, tagByteLength)
  const { memoryKiB, passes, parallelism } = parameters
  return `$argon2id$v=19$m=${memoryKiB},t=${passes},p=${parallelism}$${encodeUnpadded(salt)}$${encodeUnpadded(tag)}`
}

/** True when the password matches the PHC string; false for a mismatch or an unreadable hash. */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const parsed = parseArgon2idPhc(phc)
  if (!parsed) return false
  const tag = await deriveTag(password, parsed.salt, parsed.parameters, parsed.tag.length)
  return timingSafeEqual(tag, parsed.tag)
}

/** True when the hash was made with other parameters than the configured ones. */
export function needsRehash(phc: string, parameters: Argon2Parameters): boolean {
  const parsed = parseArgon2idPhc(phc)
  if (!parsed) return true
  const current = parsed.parameters
  return (
    current.memoryKiB !== parameters.memoryKiB ||
    current.passes !== parameters.passes ||
    current.parallelism !== parameters.parallelism ||
    parsed.tag.length !== tagByteLength ||
    parsed.salt.length < saltByteLength
  )
}

/**
 * The one place passwords are hashed and verified, with the configured parameters and the
 * concurrency bound. It also owns the dummy hash that unknown-user logins are checked against,
 * made with the current parameters so both paths cost the same argon2 work.
 */
import { randomBytes } from 'node:crypto'
import { hashPassword, needsRehash, verifyPassword, type Argon2Parameters } from './argon2id.ts'
import { createBcryptVerifier, isBcryptHash } from './bcrypt.ts'
import type { HashLimiter } from './hash-limiter.ts'

export interface PasswordVerification {
  matches: boolean
  /** True when the stored hash should be replaced by one with the current parameters. */
  isRehashNeeded: boolean
}

export interface PasswordHasher {
  hashPassword(password: string): Promise<string>
  verifyPassword(password: string, passwordHash: string): Promise<PasswordVerification>
  /** Does the work of one verification against a hash no password matches. */
  verifyAgainstDummy(password: string): Promise<void>
}

export function createPasswordHasher(deps: {
  parameters: Argon2Parameters
  limiter: HashLimiter
}): PasswordHasher {
  const { parameters, limiter } = deps
  let dummyHash: Promise<string> | null = null
  const bcrypt = createBcryptVerifier()

  return {
    hashPassword: (password) => limiter.run(() => hashPassword(password, parameters)),

    async verifyPassword(password, passwordHash) {
      if (isBcryptHash(passwordHash)) {
        // An imported bcrypt hash is replaced by argon2id at the first successful sign-in.
        const matches = await limiter.run(() => bcrypt.verifyBcryptPassword(password, passwordHash))
        return { matches, isRehashNeeded: matches }
      }
      const matches = await limiter.run(() => verifyPassword(password, passwordHash))
      return { matches, isRehashNeeded: matches && needsRehash(passwordHash, parameters) }
    },

    async verifyAgainstDummy(password) {
      dummyHash ??= hashPassword(randomBytes(32).toString('base64url'), parameters)
      const hash = await dummyHash
      await limiter.run(() => verifyPassword(password, hash))
    },
  }
}

/**
 * The one place passwords are hashed and verified, with the configured parameters and the
 * concurrency bound. It also owns the dummy hash that unknown-user logins are checked against,
 * made with the current parameters so both paths cost the same argon2 work.
 *
 * A stored argon2id hash outside the bounds of argon2-bounds.ts is never computed: it fails
 * after a dummy verification, so its answer and its time are those of any wrong password (no
 * 500, no six-second sign-in, no oracle). One below the floor is verified and padded with a
 * dummy verification in the same slot, then replaced at the next successful sign-in.
 */
import { randomBytes } from 'node:crypto'
import { fitArgon2Parameters } from './argon2-bounds.ts'
import { hashPassword, needsRehash, parseArgon2idPhc, verifyPassword, type Argon2Parameters } from './argon2id.ts'
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
  /** False for a stored hash no password can match here (out of bounds or unreadable). */
  isHashUsable(passwordHash: string): boolean
}

export function createPasswordHasher(deps: { parameters: Argon2Parameters; limiter: HashLimiter }): PasswordHasher {
  const { parameters, limiter } = deps
  let dummyHash: Promise<string> | null = null
  const bcrypt = createBcryptVerifier()

  function readDummyHash(): Promise<string> {
    dummyHash ??= hashPassword(randomBytes(32).toString('base64url'), parameters)
    return dummyHash
  }

  function fitStoredHash(passwordHash: string) {
    const parsed = parseArgon2idPhc(passwordHash)
    return parsed ? fitArgon2Parameters(parsed.parameters, parameters) : 'invalid'
  }

  async function verifyAgainstDummy(password: string): Promise<void> {
    const hash = await readDummyHash()
    await limiter.run(() => verifyPassword(password, hash))
  }

  return {
    hashPassword: (password) => limiter.run(() => hashPassword(password, parameters)),

    async verifyPassword(password, passwordHash) {
      if (isBcryptHash(passwordHash)) {
        // An imported bcrypt hash is replaced by argon2id at the first successful sign-in.
        const matches = await limiter.run(() => bcrypt.verifyBcryptPassword(password, passwordHash))
        return { matches, isRehashNeeded: matches }
      }
      const fit = fitStoredHash(passwordHash)
      if (fit === 'invalid' || fit === 'too_costly') {
        await verifyAgainstDummy(password)
        return { matches: false, isRehashNeeded: false }
      }
      const dummy = fit === 'too_weak' ? await readDummyHash() : null
      // One slot for both: the padded verification is timed and counted as one, like any other.
      const matches = await limiter.run(async () => {
        const isMatch = await verifyPassword(password, passwordHash)
        if (dummy !== null) await verifyPassword(password, dummy)
        return isMatch
      })
      return { matches, isRehashNeeded: matches && needsRehash(passwordHash, parameters) }
    },

    verifyAgainstDummy,

    isHashUsable: (passwordHash) =>
      isBcryptHash(passwordHash) || ['within', 'too_weak'].includes(fitStoredHash(passwordHash)),
  }
}

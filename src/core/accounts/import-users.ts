/**
 * Import of users from another system with their existing password hashes: bcrypt (`$2a$`,
 * `$2b$`, `$2y$`, as the seed Flask design stores them) or argon2id PHC strings within the bounds
 * of argon2-bounds.ts. Nobody's password is known or reset; a bcrypt hash (or a weaker argon2id
 * one) is replaced at the user's first sign-in.
 *
 * Import is idempotent: a username that already exists is left untouched and reported as
 * `exists`, so the same file can be imported again. Each entry succeeds or fails on its own.
 */
import { randomUUID } from 'node:crypto'
import { TesseraError, type ErrorCode } from '../errors.ts'
import { describeArgon2Refusal } from '../passwords/argon2-bounds.ts'
import { parseArgon2idPhc, type Argon2Parameters } from '../passwords/argon2id.ts'
import { isBcryptHash } from '../passwords/bcrypt.ts'
import { defaultRoles, normalizeRoles } from './accounts.ts'
import type { UserRecord } from './store.ts'
import { requireValidUsername } from './username.ts'

export interface ImportEntry {
  username: string
  passwordHash: string
  roles?: readonly string[]
}

export type ImportResult =
  | { outcome: 'imported'; user: UserRecord }
  | { outcome: 'exists'; username: string }
  | { outcome: 'failed'; code: ErrorCode; message: string }

/** Most entries one import call accepts (the CLI sends a file in batches of this size). */
export const maxImportBatch = 1000

/** Refuses a hash Tessera cannot or will not verify (argon2id outside argon2-bounds.ts). */
function requireImportableHash(hash: string, configured: Argon2Parameters): void {
  if (isBcryptHash(hash)) return
  const parsed = parseArgon2idPhc(hash)
  if (!parsed) {
    throw new TesseraError(
      'validation_failed',
      'The password hash must be bcrypt ($2a$, $2b$ or $2y$, cost 4 to 14) or an argon2id PHC string.',
    )
  }
  const refusal = describeArgon2Refusal(parsed.parameters, configured)
  if (refusal !== null) throw new TesseraError('validation_failed', refusal)
}

/**
 * The record of an imported user, its hash kept as given; nothing is stored yet. `configured`
 * are the argon2id parameters Tessera hashes with, which bound an imported argon2id hash. Throws
 * `invalid_username` or `validation_failed` (an unusable hash or malformed roles).
 */
export function prepareImportedUser(entry: ImportEntry, now: Date, configured: Argon2Parameters): UserRecord {
  const name = requireValidUsername(entry.username)
  requireImportableHash(entry.passwordHash, configured)
  return {
    id: randomUUID(),
    username: name.display,
    usernameKey: name.key,
    usernameSkeleton: name.skeleton,
    passwordHash: entry.passwordHash,
    roles: normalizeRoles(entry.roles ?? defaultRoles),
    disabledAt: null,
    sessionEpoch: 0,
    isPasswordChangeRequired: false,
    createdAt: now,
    updatedAt: now,
  }
}

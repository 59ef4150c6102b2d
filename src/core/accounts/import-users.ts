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
import type { Clock } from '../clock.ts'
import { TesseraError, type ErrorCode } from '../errors.ts'
import { describeArgon2Refusal } from '../passwords/argon2-bounds.ts'
import { parseArgon2idPhc, type Argon2Parameters } from '../passwords/argon2id.ts'
import { isBcryptHash } from '../passwords/bcrypt.ts'
import { defaultRoles, normalizeRoles } from './accounts.ts'
import type { AccountStore, UserRecord } from './store.ts'
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

export interface UserImport {
  /** Imports each entry on its own; the results are in the order of the entries. */
  importUsers(entries: readonly ImportEntry[]): Promise<ImportResult[]>
}

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

export function createUserImport(deps: { store: AccountStore; clock: Clock; argon2: Argon2Parameters }): UserImport {
  const { store, clock, argon2 } = deps

  async function importUser(entry: ImportEntry): Promise<ImportResult> {
    const name = requireValidUsername(entry.username)
    requireImportableHash(entry.passwordHash, argon2)
    const roles = normalizeRoles(entry.roles ?? defaultRoles)
    const now = clock.now()
    const user: UserRecord = {
      id: randomUUID(),
      username: name.display,
      usernameKey: name.key,
      usernameSkeleton: name.skeleton,
      passwordHash: entry.passwordHash,
      roles,
      disabledAt: null,
      createdAt: now,
      updatedAt: now,
    }
    const outcome = await store.insertUser(user)
    return outcome === 'inserted' ? { outcome: 'imported', user } : { outcome: 'exists', username: name.display }
  }

  return {
    async importUsers(entries) {
      if (entries.length > maxImportBatch) {
        throw new TesseraError('validation_failed', `Import at most ${maxImportBatch} users at a time.`)
      }
      const results: ImportResult[] = []
      for (const entry of entries) {
        try {
          results.push(await importUser(entry))
        } catch (error) {
          if (!(error instanceof TesseraError)) throw error
          results.push({ outcome: 'failed', code: error.code, message: error.message })
        }
      }
      return results
    },
  }
}

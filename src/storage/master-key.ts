/**
 * The instance's master key: 32 random bytes (base64) in a file of mode 0600 in the data
 * directory. Signing keys are stored sealed under it, so a database is readable only with the
 * key it was created with: a new key is never made where a database already exists (see
 * src/storage/data-directory.ts).
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { assertPrivateDirectory, assertPrivateFile } from './private-files.ts'

export const masterKeyFileName = 'master.key'

/** The key in `path`, or null when there is no such file; refuses loose modes and short keys. */
export function readMasterKey(path: string): Uint8Array | null {
  assertPrivateDirectory(dirname(path))
  let text: string
  try {
    assertPrivateFile(path)
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  const key = Buffer.from(text.trim(), 'base64')
  if (key.length < 32) throw new Error(`${path} does not hold a 32-byte base64 key`)
  return new Uint8Array(key)
}

/** Writes a new key to `path` (never over an existing file) and returns it. */
export function createMasterKey(path: string): Uint8Array {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  assertPrivateDirectory(dirname(path))
  const key = randomBytes(32)
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
  return new Uint8Array(key)
}

/** The key in `path`, created on first use (tests and tools that start from an empty directory). */
export function loadOrCreateMasterKey(path: string): Uint8Array {
  const existing = readMasterKey(path)
  if (existing !== null) return existing
  try {
    return createMasterKey(path)
  } catch (error) {
    // Another process made it meanwhile: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const created = readMasterKey(path)
    if (created === null) throw error
    return created
  }
}

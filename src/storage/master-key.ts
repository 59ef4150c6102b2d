/**
 * The instance's master key: 32 random bytes in a file of mode 0600, created on first start
 * and reused afterwards. Signing keys are stored encrypted under it.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

export function loadOrCreateMasterKey(path: string): Uint8Array {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  try {
    writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    throw new Error(`${path} must not be readable by group or others (chmod 600)`)
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')
  if (key.length < 32) throw new Error(`${path} does not hold a 32-byte base64 key`)
  return new Uint8Array(key)
}

/**
 * Which server settings a run uses. `TESSERA_*` variables in the benchmark's environment reach
 * the server (to compare, say, TESSERA_HASH_CONCURRENCY=3 with the default), except the ones the
 * benchmark owns; the argon2id timing reads the same TESSERA_ARGON2_* values, so the hash-bound
 * limit is always for the parameters the server hashes with.
 */
import type { Argon2Parameters } from './argon2-timing.ts'

/** Set by the benchmark itself: a fresh data dir, a free loopback port, quiet logs, no admin. */
const ownedNames = new Set([
  'TESSERA_HOST',
  'TESSERA_PORT',
  'TESSERA_DATA_DIR',
  'TESSERA_LOG_LEVEL',
  'TESSERA_CONFIG_FILE',
  'TESSERA_BOOTSTRAP_ADMIN_USERNAME',
  'TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE',
])

/** The server's defaults for TESSERA_ARGON2_MEMORY_KIB, _PASSES and _PARALLELISM. */
const defaultArgon2Parameters: Argon2Parameters = { memoryKiB: 19456, passes: 2, parallelism: 1 }

export function readServerSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  const settings: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('TESSERA_') && !ownedNames.has(name) && value !== undefined) settings[name] = value
  }
  return settings
}

function readPositiveInteger(settings: Record<string, string>, name: string, fallback: number): number {
  const raw = settings[name]
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, not "${raw}"`)
  return value
}

export function readArgon2Parameters(settings: Record<string, string>): Argon2Parameters {
  return {
    memoryKiB: readPositiveInteger(settings, 'TESSERA_ARGON2_MEMORY_KIB', defaultArgon2Parameters.memoryKiB),
    passes: readPositiveInteger(settings, 'TESSERA_ARGON2_PASSES', defaultArgon2Parameters.passes),
    parallelism: readPositiveInteger(settings, 'TESSERA_ARGON2_PARALLELISM', defaultArgon2Parameters.parallelism),
  }
}

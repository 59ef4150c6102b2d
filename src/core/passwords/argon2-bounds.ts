/**
 * The argon2id parameters Tessera will compute for a stored hash. A PHC string carries its own
 * cost, and an imported one carries whatever the old system (or an attacker with the import
 * file) wrote: `t=300` makes one sign-in take seconds and fills the hash pool, `m=9999999999`
 * is more memory than exists, `m=8,t=1` protects nothing. So a hash is used only within bounds:
 *
 * - at most `maxCostFactor` times the configured cost, in memory and in memory × passes, so one
 *   verification never costs more than a few normal ones;
 * - at least the OWASP floor (46 MiB t=1, 19 MiB t=2, 12 MiB t=3, 9 MiB t=4, 7 MiB t≥5), or at
 *   least the configured parameters when those are set lower (test set-ups);
 * - what argon2 itself requires (1 to 16 lanes, 8 KiB of memory per lane).
 */
import type { Argon2Parameters } from './argon2id.ts'

/** How many times the configured cost a stored hash may take. */
export const maxCostFactor = 4
const maxParallelism = 16
const owaspFloorKiBByPasses = [47104, 19456, 12288, 9216, 7168] as const

export type Argon2ParameterFit = 'within' | 'too_weak' | 'too_costly' | 'invalid'

function owaspFloorKiB(passes: number): number {
  return owaspFloorKiBByPasses[Math.min(passes, owaspFloorKiBByPasses.length) - 1] ?? 7168
}

/** Where a stored hash's parameters stand against the configured ones. */
export function fitArgon2Parameters(stored: Argon2Parameters, configured: Argon2Parameters): Argon2ParameterFit {
  const { memoryKiB, passes, parallelism } = stored
  if (passes < 1 || parallelism < 1 || parallelism > maxParallelism || memoryKiB < 8 * parallelism) return 'invalid'
  const isTooCostly =
    memoryKiB > maxCostFactor * configured.memoryKiB ||
    memoryKiB * passes > maxCostFactor * configured.memoryKiB * configured.passes
  if (isTooCostly) return 'too_costly'
  const meetsFloor = memoryKiB >= owaspFloorKiB(passes)
  const meetsConfigured = memoryKiB >= configured.memoryKiB && passes >= configured.passes
  return meetsFloor || meetsConfigured ? 'within' : 'too_weak'
}

/** Why an import refuses these parameters, in words for the operator; null when they fit. */
export function describeArgon2Refusal(stored: Argon2Parameters, configured: Argon2Parameters): string | null {
  switch (fitArgon2Parameters(stored, configured)) {
    case 'within':
      return null
    case 'invalid':
      return 'The argon2id parameters are not valid (1 to 16 lanes, at least 8 KiB of memory per lane).'
    case 'too_costly':
      return `The argon2id hash costs more than ${maxCostFactor} times the configured parameters (memory at most ${maxCostFactor * configured.memoryKiB} KiB, memory × passes at most ${maxCostFactor * configured.memoryKiB * configured.passes}); raise TESSERA_ARGON2_MEMORY_KIB / TESSERA_ARGON2_PASSES to import it.`
    case 'too_weak':
      return 'The argon2id hash is below the OWASP minimum (46 MiB with t=1, 19 MiB with t=2, 12 MiB with t=3, 9 MiB with t=4, 7 MiB with t>=5); its users need a new password.'
  }
}

/**
 * Core settings for tests that build a core directly: the documented defaults from the settings
 * schema, overridden by `env`, with argon2id at its cheapest so hashing does not dominate.
 */
import { loadConfig } from '../../src/config/load.ts'
import type { CoreSettings } from '../../src/core/core.ts'

export function buildTestCoreSettings(env: Record<string, string> = {}): CoreSettings {
  const config = loadConfig({ TESSERA_LOG_LEVEL: 'silent', ...env })
  return {
    tokens: config.tokens,
    sessions: config.sessions,
    passwords: { ...config.passwords, argon2: { memoryKiB: 1024, passes: 1, parallelism: 1 } },
  }
}

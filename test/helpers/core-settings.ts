/**
 * Application settings for tests that build an application directly: the documented defaults
 * from the settings schema, overridden by `env`, with argon2id at its cheapest so hashing does
 * not dominate.
 */
import { toApplicationSettings } from '../../src/config/application-settings.ts'
import { loadConfig } from '../../src/config/load.ts'
import type { ApplicationSettings } from '../../src/core/application/application.ts'

export function buildTestApplicationSettings(env: Record<string, string> = {}): ApplicationSettings {
  const settings = toApplicationSettings(loadConfig({ TESSERA_LOG_LEVEL: 'silent', ...env }))
  return { ...settings, passwords: { ...settings.passwords, argon2: { memoryKiB: 1024, passes: 1, parallelism: 1 } } }
}

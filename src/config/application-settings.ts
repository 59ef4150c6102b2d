/**
 * The one way from the configuration to the application's settings: the server, the offline
 * CLI commands and the tests all build the application through it, so no default is written
 * twice (every default comes from the settings table in schema.ts).
 */
import type { ApplicationSettings } from '../core/application/application.ts'
import { toAuditSettings } from './audit-settings.ts'
import type { Config } from './load.ts'

export function toApplicationSettings(config: Config): ApplicationSettings {
  return {
    tokens: config.tokens,
    sessions: config.sessions,
    passwords: config.passwords,
    audit: toAuditSettings(config.audit),
    throttle: config.throttle,
    secondFactor: config.secondFactor,
    eventStream: config.eventStream,
    gameData: config.gameData,
  }
}

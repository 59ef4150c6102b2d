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
    email: {
      passwordResetTtlSeconds: config.mail.passwordResetTtlSeconds,
      verificationTtlSeconds: config.mail.verificationTtlSeconds,
      mailsPerWindow: config.mail.mailsPerHour,
      mailWindowSeconds: 3600,
      linkBaseUrl: config.mail.linkBaseUrl,
      // A few relays at once, and a bounded backlog: a flood of reset requests queues no more.
      outbox: { concurrency: 4, maxQueued: 1000, jobTimeoutMs: (config.mail.smtp?.timeoutSeconds ?? 10) * 1000 },
    },
    eventStream: config.eventStream,
    gameData: config.gameData,
  }
}

/**
 * Reads, validates and freezes the configuration. The only module that sees the environment.
 * Every invalid setting is reported at once, by name, before anything starts.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism, hostname } from 'node:os'
import { createCronSchedule } from '../core/scheduler/cron-schedule.ts'
import { resolve } from 'node:path'
import {
  describeBackendSettings,
  maskCapabilityUrl,
  readBackendSettings,
  type BackendSettings,
  maskUrlPassword,
} from './backends.ts'
import { settings, type ReadSetting, type SettingDefinition, type SettingName, type SettingValues } from './schema.ts'
import type { ThrottleSettings } from '../core/throttle/throttle.ts'
import type { SecondFactorSettings } from '../core/application/second-factor.ts'
import type { GameDataSettings } from '../core/application/game-data.ts'
import {
  buildThrottleSettings,
  checkCookieTransport,
  checkMetricsExposure,
  isHostName,
  readTlsFiles,
  type TlsFiles,
} from './hardening.ts'
import { readPageSettings, type PageSettings } from './branding.ts'
import { readSessionLimits } from './session-limits.ts'
import type { SessionLimit } from '../core/sessions/store.ts'

export interface MailConfig {
  /** Null: no mail is sent (reset and verification are off); set, it comes with a link URL. */
  smtp: { url: string; from: string; timeoutSeconds: number } | null
  linkBaseUrl: string
  passwordResetTtlSeconds: number
  verificationTtlSeconds: number
  mailsPerHour: number
}

export interface Config {
  server: {
    host: string
    port: number
    requestTimeoutSeconds: number
    headersTimeoutSeconds: number
    /** How long a stop may take before the process exits anyway. */
    shutdownTimeoutSeconds: number
    logLevel: string
    /** Origins whose cookie-authenticated unsafe requests are accepted. */
    allowedOrigins: string[]
    /** Proxies whose X-Forwarded-For entries are believed; 0 trusts none. */
    trustProxyHops: number
    /** Served by Tessera itself when set. */
    tls: TlsFiles | null
    /** True when clients reach Tessera over TLS (served here or ended by a proxy): HSTS is sent. */
    isHttps: boolean
    /** TESSERA_ALLOW_INSECURE_COOKIES: plain HTTP to a non-loopback address is accepted. */
    allowInsecureCookies: boolean
  }
  storage: { dataDir: string } & BackendSettings
  tokens: {
    issuer: string
    audience: string
    /** The `client_id` claim of tokens issued by sign-ins (RFC 9068 §2.2). */
    clientId: string
    accessTokenTtlSeconds: number
    leewaySeconds: number
    signingAlgorithm: 'EdDSA' | 'ES256' | 'RS256'
    refreshGraceSeconds: number
    keyActivationDelaySeconds: number
    keyReloadIntervalSeconds: number
  }
  sessions: {
    idleTimeoutSeconds: number
    absoluteTimeoutSeconds: number
    cacheTtlSeconds: number
    limits: Readonly<Record<string, SessionLimit>>
  }
  eventStream: {
    heartbeatSeconds: number
    replayWindowSeconds: number
    replayMaxEvents: number
    maxBufferedBytes: number
  }
  passwords: {
    argon2: { memoryKiB: number; passes: number; parallelism: number }
    hashConcurrency: number
    hashQueue: number
    minLength: number
    maxLength: number
    /** Words new passwords may not be built on, besides the username and "tessera". */
    contextWords: string[]
  }
  throttle: ThrottleSettings
  secondFactor: SecondFactorSettings
  gameData: GameDataSettings
  bootstrap: { adminUsername: string | null; adminPasswordFile: string | null }
  audit: {
    nodeId: string
    retentionSeconds: number
    reviewWindowSeconds: number
    rules: {
      accountFailureThreshold: number
      sprayAccountThreshold: number
      stuffingIpThreshold: number
      successAfterFailuresThreshold: number
    }
    alertDedupeWindowSeconds: number
    schedules: { review: string; report: string; retention: string; timezone: string | null }
    isSchedulerEnabled: boolean
    webhook: { url: string; secret: string; timeoutSeconds: number; maxAttempts: number } | null
  }
  metrics: { token: string | null }
  /** The hosted pages and admin console: whether they are served, and their branding. */
  pages: PageSettings
  mail: MailConfig
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

const durationUnits: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }

/** "90" → 90, "15m" → 900, "1.5h" → 5400, "250ms" → 0.25; null when unreadable. */
export function parseDurationSeconds(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim())
  if (!match) return null
  return Number(match[1]) * (durationUnits[match[2] ?? 's'] ?? 1)
}

type RawValues = Partial<Record<SettingName, string>>
type ParsedValue = string | number | boolean | string[] | undefined

function parseSetting(
  name: SettingName,
  definition: SettingDefinition,
  raw: string | undefined,
  problems: string[],
): ParsedValue {
  // An empty value (`TESSERA_X=`) means "not set": it must fall back to the default, never leave
  // a setting such as the idle timeout or the argon2 memory undefined.
  const text = raw === undefined || raw === '' ? definition.default : raw
  if (text === undefined || (text === '' && definition.type !== 'list')) return undefined
  const fail = (why: string): undefined => {
    problems.push(`${name}: ${why}`)
    return undefined
  }
  const checkBounds = (value: number, unit: string): number | undefined => {
    if (definition.min !== undefined && value < definition.min) {
      return fail(`must be at least ${definition.min}${unit}`)
    }
    if (definition.max !== undefined && value > definition.max) {
      return fail(`must be at most ${definition.max}${unit}`)
    }
    return value
  }
  switch (definition.type) {
    case 'integer': {
      if (!/^\d+$/.test(text.trim())) return fail(`expected a whole number, got "${text}"`)
      return checkBounds(Number(text), '')
    }
    case 'duration': {
      const seconds = parseDurationSeconds(text)
      if (seconds === null) return fail(`expected a duration such as 30s, 15m, 1h or 7d, got "${text}"`)
      return checkBounds(seconds, ' seconds')
    }
    case 'boolean': {
      if (['true', '1', 'yes'].includes(text)) return true
      if (['false', '0', 'no'].includes(text)) return false
      return fail(`expected true or false, got "${text}"`)
    }
    case 'url': {
      if (!URL.canParse(text)) return fail(`expected an absolute URL, got "${text}"`)
      const url = new URL(text)
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail('expected an http(s) URL')
      return text.replace(/\/+$/, '')
    }
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '')
    case 'cron': {
      try {
        createCronSchedule(text, null)
      } catch (error) {
        return fail((error as Error).message)
      }
      return text
    }
    case 'string': {
      if (definition.oneOf && !definition.oneOf.includes(text)) {
        return fail(`expected one of ${definition.oneOf.join(', ')}, got "${text}"`)
      }
      return text
    }
  }
}

function readConfigFile(path: string, problems: string[]): RawValues {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    problems.push(`TESSERA_CONFIG_FILE: cannot read ${path} as JSON (${(error as Error).message})`)
    return {}
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push('TESSERA_CONFIG_FILE: expected a JSON object of settings')
    return {}
  }
  const values: RawValues = {}
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in settings)) {
      problems.push(`${key}: unknown setting in ${path}`)
      continue
    }
    values[key as SettingName] = Array.isArray(value) ? value.join(',') : String(value)
  }
  return values
}

/** OWASP Password Storage Cheat Sheet: the argon2id equivalents of m=19 MiB, t=2, p=1. */
function meetsArgon2Floor(memoryKiB: number, passes: number): boolean {
  if (passes === 1) return memoryKiB >= 47104
  if (passes === 2) return memoryKiB >= 19456
  return memoryKiB >= 12288
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** Builds the configuration from the environment (and `TESSERA_CONFIG_FILE`, which env overrides). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = []
  const fromFile = env.TESSERA_CONFIG_FILE ? readConfigFile(env.TESSERA_CONFIG_FILE, problems) : {}
  for (const key of Object.keys(env)) {
    // TESSERA_TEST_* belong to the test suite (which backends to use or require), not to a server.
    if (key.startsWith('TESSERA_TEST_')) continue
    if (key.startsWith('TESSERA_') && key !== 'TESSERA_CONFIG_FILE' && !(key in settings)) {
      problems.push(`${key}: unknown setting`)
    }
  }
  const values = {} as Record<SettingName, ParsedValue>
  for (const [name, definition] of Object.entries(settings) as Array<[SettingName, SettingDefinition]>) {
    const raw = env[name] ?? fromFile[name]
    values[name] = parseSetting(name, definition, raw, problems)
  }
  // Each value was parsed by its own definition (parseSetting), which is what SettingValues states.
  const value: ReadSetting = (name) => values[name] as SettingValues[typeof name]

  const host = value('TESSERA_HOST')
  const port = value('TESSERA_PORT')
  // Served over TLS here, the default issuer and allowed origin are https too.
  const defaultScheme = value('TESSERA_TLS_CERT') === undefined ? 'http' : 'https'
  const publicUrl =
    value('TESSERA_PUBLIC_URL') ?? `${defaultScheme}://${host.includes(':') ? `[${host}]` : host}:${port}`
  const idle = value('TESSERA_SESSION_IDLE_TIMEOUT')
  const absolute = value('TESSERA_SESSION_ABSOLUTE_TIMEOUT')
  if (idle !== undefined && absolute !== undefined && idle > absolute) {
    problems.push('TESSERA_SESSION_IDLE_TIMEOUT: must not be longer than TESSERA_SESSION_ABSOLUTE_TIMEOUT')
  }
  const memoryKiB = value('TESSERA_ARGON2_MEMORY_KIB')
  const passes = value('TESSERA_ARGON2_PASSES')
  if (memoryKiB !== undefined && passes !== undefined && !meetsArgon2Floor(memoryKiB, passes)) {
    problems.push(
      'TESSERA_ARGON2_MEMORY_KIB: below the OWASP floor for these passes (t=1 needs 47104 KiB, t=2 19456, t>=3 12288)',
    )
  }
  const minLength = value('TESSERA_PASSWORD_MIN_LENGTH')
  const maxLength = value('TESSERA_PASSWORD_MAX_LENGTH')
  const adminUsername = value('TESSERA_BOOTSTRAP_ADMIN_USERNAME') ?? null
  const adminPasswordFile = value('TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE') ?? null
  if ((adminUsername === null) !== (adminPasswordFile === null)) {
    problems.push('TESSERA_BOOTSTRAP_ADMIN_USERNAME: must be set together with TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE')
  }
  const timezone = value('TESSERA_SCHEDULE_TIMEZONE') ?? null
  if (timezone !== null) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone })
    } catch {
      problems.push(`TESSERA_SCHEDULE_TIMEZONE: "${timezone}" is not an IANA time zone such as Europe/Paris`)
    }
  }
  const webhookUrl = value('TESSERA_ALERT_WEBHOOK_URL') ?? null
  const webhookSecret = value('TESSERA_ALERT_WEBHOOK_SECRET') ?? null
  if ((webhookUrl === null) !== (webhookSecret === null)) {
    problems.push('TESSERA_ALERT_WEBHOOK_URL: must be set together with TESSERA_ALERT_WEBHOOK_SECRET')
  } else if (webhookSecret !== null && webhookSecret.length < 16) {
    problems.push('TESSERA_ALERT_WEBHOOK_SECRET: must be at least 16 characters')
  }
  if (!/^[\x21-\x7e]{1,128}$/.test(value('TESSERA_CLIENT_ID'))) {
    problems.push('TESSERA_CLIENT_ID: expected 1 to 128 visible ASCII characters (no spaces)')
  }
  const tls = readTlsFiles(value, problems)
  const allowInsecureCookies = value('TESSERA_ALLOW_INSECURE_COOKIES')
  // A host name is checked at start, on the addresses it resolves to (src/config/start-checks.ts).
  if (
    !problems.some((problem) => problem.startsWith('TESSERA_PUBLIC_URL') || problem.startsWith('TESSERA_HOST')) &&
    !isHostName(host)
  ) {
    checkCookieTransport({ host, publicUrl, tls, allowInsecureCookies }, problems)
    checkMetricsExposure({ host, metricsToken: value('TESSERA_METRICS_TOKEN') ?? null }, problems)
  }
  const backends = readBackendSettings(value, problems)
  const sessionLimits = readSessionLimits(value('TESSERA_SESSION_LIMITS'), problems)
  const pages = readPageSettings(value, problems)
  const smtpUrl = value('TESSERA_SMTP_URL') ?? null
  const mailFrom = value('TESSERA_MAIL_FROM') ?? null
  if (smtpUrl !== null) {
    const protocol = URL.canParse(smtpUrl) ? new URL(smtpUrl).protocol : null
    if (protocol !== 'smtp:' && protocol !== 'smtps:') {
      problems.push('TESSERA_SMTP_URL: expected smtp://user:password@host:587 or smtps://user:password@host:465')
    }
    if (mailFrom === null) problems.push('TESSERA_MAIL_FROM: must be set together with TESSERA_SMTP_URL')
    // Without the hosted pages Tessera serves no page at the links' paths: they must lead to the app's.
    if (value('TESSERA_MAIL_LINK_URL') === undefined && !pages.isEnabled) {
      problems.push(
        'TESSERA_MAIL_LINK_URL: must be set together with TESSERA_SMTP_URL when TESSERA_PAGES_ENABLED is false (the base URL of your pages /password-reset and /verify-email)',
      )
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)

  const publicOrigin = new URL(publicUrl).origin
  const allowedOrigins = [...new Set([publicOrigin, ...value('TESSERA_ALLOWED_ORIGINS')])]
  for (const origin of allowedOrigins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      problems.push(`TESSERA_ALLOWED_ORIGINS: "${origin}" is not an origin such as https://app.example`)
    }
  }
  const webauthnOrigins = [...new Set([publicOrigin, ...value('TESSERA_WEBAUTHN_ORIGINS')])]
  for (const origin of webauthnOrigins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      problems.push(`TESSERA_WEBAUTHN_ORIGINS: "${origin}" is not an origin such as https://app.example`)
    }
  }
  const rpId = value('TESSERA_WEBAUTHN_RP_ID') ?? new URL(publicUrl).hostname
  const publicHost = new URL(publicUrl).hostname
  if (publicHost !== rpId && !publicHost.endsWith(`.${rpId}`)) {
    problems.push(`TESSERA_WEBAUTHN_RP_ID: "${rpId}" must be the public URL host (${publicHost}) or a domain above it`)
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return deepFreeze({
    server: {
      host,
      port,
      requestTimeoutSeconds: value('TESSERA_REQUEST_TIMEOUT'),
      headersTimeoutSeconds: value('TESSERA_HEADERS_TIMEOUT'),
      shutdownTimeoutSeconds: value('TESSERA_SHUTDOWN_TIMEOUT'),
      logLevel: value('TESSERA_LOG_LEVEL'),
      allowedOrigins,
      trustProxyHops: value('TESSERA_TRUST_PROXY'),
      tls,
      isHttps: tls !== null || new URL(publicUrl).protocol === 'https:',
      allowInsecureCookies,
    },
    storage: { dataDir: resolve(value('TESSERA_DATA_DIR')), ...backends },
    tokens: {
      issuer: publicUrl,
      audience: value('TESSERA_AUDIENCE') ?? publicUrl,
      clientId: value('TESSERA_CLIENT_ID'),
      accessTokenTtlSeconds: Math.ceil(value('TESSERA_ACCESS_TOKEN_TTL')),
      leewaySeconds: value('TESSERA_CLOCK_LEEWAY'),
      signingAlgorithm: value('TESSERA_SIGNING_ALGORITHM'),
      refreshGraceSeconds: value('TESSERA_REFRESH_GRACE'),
      keyActivationDelaySeconds: value('TESSERA_KEY_ACTIVATION_DELAY'),
      keyReloadIntervalSeconds: value('TESSERA_KEY_RELOAD_INTERVAL'),
    },
    sessions: {
      idleTimeoutSeconds: idle,
      absoluteTimeoutSeconds: absolute,
      cacheTtlSeconds: value('TESSERA_SESSION_CACHE_TTL'),
      limits: sessionLimits,
    },
    eventStream: {
      heartbeatSeconds: value('TESSERA_EVENT_STREAM_HEARTBEAT'),
      replayWindowSeconds: value('TESSERA_EVENT_STREAM_REPLAY_WINDOW'),
      replayMaxEvents: value('TESSERA_EVENT_STREAM_REPLAY_EVENTS'),
      maxBufferedBytes: value('TESSERA_EVENT_STREAM_MAX_BUFFER'),
    },
    passwords: {
      argon2: {
        memoryKiB,
        passes,
        parallelism: value('TESSERA_ARGON2_PARALLELISM'),
      },
      // One more than the cores: a hash thread waiting for its next job leaves a core idle otherwise.
      hashConcurrency: value('TESSERA_HASH_CONCURRENCY') ?? availableParallelism() + 1,
      hashQueue: value('TESSERA_HASH_QUEUE'),
      minLength,
      maxLength,
      contextWords: value('TESSERA_PASSWORD_CONTEXT_WORDS'),
    },
    throttle: buildThrottleSettings(value),
    gameData: {
      sessionDataMaxBytes: value('TESSERA_SESSION_DATA_MAX_SIZE'),
      playerDataMaxBytes: value('TESSERA_PLAYER_DATA_MAX_SIZE'),
      guestRetentionSeconds: value('TESSERA_GUEST_RETENTION'),
    },
    secondFactor: {
      reauthenticationMaxAgeSeconds: value('TESSERA_REAUTHENTICATION_MAX_AGE'),
      requiredRoles: value('TESSERA_MFA_REQUIRED_ROLES'),
      totpIssuer: value('TESSERA_TOTP_ISSUER'),
      webauthn: { rpId, rpName: value('TESSERA_WEBAUTHN_RP_NAME'), origins: webauthnOrigins },
    },
    bootstrap: { adminUsername, adminPasswordFile },
    audit: {
      nodeId: value('TESSERA_NODE_ID') ?? `${hostname()}:${process.pid}`,
      retentionSeconds: value('TESSERA_AUDIT_RETENTION'),
      reviewWindowSeconds: value('TESSERA_REVIEW_WINDOW'),
      rules: {
        accountFailureThreshold: value('TESSERA_REVIEW_ACCOUNT_FAILURES'),
        sprayAccountThreshold: value('TESSERA_REVIEW_SPRAY_ACCOUNTS'),
        stuffingIpThreshold: value('TESSERA_REVIEW_STUFFING_ADDRESSES'),
        successAfterFailuresThreshold: value('TESSERA_REVIEW_SUCCESS_AFTER_FAILURES'),
      },
      alertDedupeWindowSeconds: value('TESSERA_ALERT_DEDUPE_WINDOW'),
      schedules: {
        review: value('TESSERA_REVIEW_SCHEDULE'),
        report: value('TESSERA_REPORT_SCHEDULE'),
        retention: value('TESSERA_RETENTION_SCHEDULE'),
        timezone,
      },
      isSchedulerEnabled: value('TESSERA_SCHEDULER_ENABLED'),
      webhook:
        webhookUrl === null || webhookSecret === null
          ? null
          : {
              url: webhookUrl,
              secret: webhookSecret,
              timeoutSeconds: value('TESSERA_ALERT_WEBHOOK_TIMEOUT'),
              maxAttempts: value('TESSERA_ALERT_WEBHOOK_MAX_ATTEMPTS'),
            },
    },
    metrics: { token: value('TESSERA_METRICS_TOKEN') ?? null },
    pages,
    mail: {
      smtp:
        smtpUrl === null || mailFrom === null
          ? null
          : { url: smtpUrl, from: mailFrom, timeoutSeconds: value('TESSERA_SMTP_TIMEOUT') },
      linkBaseUrl: value('TESSERA_MAIL_LINK_URL') ?? publicUrl,
      passwordResetTtlSeconds: value('TESSERA_PASSWORD_RESET_TTL'),
      verificationTtlSeconds: value('TESSERA_EMAIL_VERIFICATION_TTL'),
      mailsPerHour: value('TESSERA_PASSWORD_RESET_MAILS_PER_HOUR'),
    },
  })
}

/** The effective settings for display, with secrets masked. */
export function describeConfig(config: Config): Record<string, unknown> {
  const masked = structuredClone(config) as Config
  // Secrets are shown only as set or not: `config check` output ends up in tickets and chats.
  if (masked.audit.webhook) {
    masked.audit.webhook.secret = '(set, hidden)'
    masked.audit.webhook.url = maskCapabilityUrl(masked.audit.webhook.url)
  }
  if (masked.metrics.token !== null) masked.metrics.token = '(set, hidden)'
  if (masked.mail.smtp) masked.mail.smtp.url = maskUrlPassword(masked.mail.smtp.url)
  const described = JSON.parse(JSON.stringify(masked)) as Record<string, unknown>
  const { dataDir, ...backends } = config.storage
  described.storage = { dataDir, ...describeBackendSettings(backends) }
  return described
}

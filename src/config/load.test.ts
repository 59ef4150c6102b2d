import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ConfigError, describeConfig, loadConfig, parseDurationSeconds } from './load.ts'

const scratch = mkdtempSync(join(tmpdir(), 'tessera-config-test-'))
after(() => rmSync(scratch, { recursive: true, force: true }))

function writeConfigFile(name: string, content: string): string {
  const path = join(scratch, name)
  writeFileSync(path, content)
  return path
}

/** The problems loadConfig reports for `env`; fails the test when it accepts the config. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  assert.fail('expected a ConfigError')
}

function assertProblemFor(env: Record<string, string>, name: string): void {
  const problems = problemsOf(env)
  assert.ok(
    problems.some((problem) => problem.startsWith(`${name}:`)),
    problems.join('\n'),
  )
}

describe('loadConfig()', () => {
  it('uses the documented defaults for an empty environment', () => {
    const config = loadConfig({})
    assert.equal(config.server.host, '127.0.0.1')
    assert.equal(config.server.port, 8080)
    assert.equal(config.server.logLevel, 'info')
    assert.deepEqual(config.server.allowedOrigins, ['http://127.0.0.1:8080'])
    assert.ok(isAbsolute(config.storage.dataDir))
    assert.deepEqual(config.tokens, {
      issuer: 'http://127.0.0.1:8080',
      audience: 'http://127.0.0.1:8080',
      clientId: 'tessera',
      accessTokenTtlSeconds: 600,
      leewaySeconds: 5,
      signingAlgorithm: 'EdDSA',
      refreshGraceSeconds: 5,
      keyActivationDelaySeconds: 600,
      keyReloadIntervalSeconds: 10,
    })
    assert.deepEqual(config.sessions, {
      idleTimeoutSeconds: 3600,
      absoluteTimeoutSeconds: 86_400,
      cacheTtlSeconds: 1,
      limits: {},
    })
    assert.deepEqual(config.passwords.argon2, { memoryKiB: 19456, passes: 2, parallelism: 1 })
    assert.equal(config.passwords.minLength, 15)
    assert.equal(config.passwords.maxLength, 1024)
    assert.equal(config.passwords.hashQueue, 256)
    assert.ok(config.passwords.hashConcurrency >= 1)
    assert.deepEqual(config.bootstrap, { adminUsername: null, adminPasswordFile: null })
  })

  it('returns a deeply frozen configuration', () => {
    const config = loadConfig({})
    assert.ok(Object.isFrozen(config))
    assert.ok(Object.isFrozen(config.passwords.argon2))
    assert.ok(Object.isFrozen(config.server.allowedOrigins))
    assert.throws(() => {
      ;(config.sessions as { idleTimeoutSeconds: number }).idleTimeoutSeconds = 1
    }, TypeError)
  })

  it('reads durations with units once', () => {
    const config = loadConfig({
      TESSERA_SESSION_IDLE_TIMEOUT: '15m',
      TESSERA_SESSION_ABSOLUTE_TIMEOUT: '7d',
      TESSERA_ACCESS_TOKEN_TTL: '300',
      TESSERA_SESSION_CACHE_TTL: '250ms',
    })
    assert.equal(config.sessions.idleTimeoutSeconds, 900)
    assert.equal(config.sessions.absoluteTimeoutSeconds, 604_800)
    assert.equal(config.tokens.accessTokenTtlSeconds, 300)
    assert.equal(config.sessions.cacheTtlSeconds, 0.25)
  })

  it('parseDurationSeconds() reads numbers with ms, s, m, h and d and refuses anything else', () => {
    assert.equal(parseDurationSeconds('90'), 90)
    assert.equal(parseDurationSeconds('15m'), 900)
    assert.equal(parseDurationSeconds('1.5h'), 5400)
    assert.equal(parseDurationSeconds('2d'), 172_800)
    assert.equal(parseDurationSeconds('250ms'), 0.25)
    for (const text of ['', 'soon', '-5s', '15 m', '1w', 'm', '1e3', '0x10']) {
      assert.equal(parseDurationSeconds(text), null, text)
    }
  })

  it('lists every invalid setting at once, by name', () => {
    const problems = problemsOf({
      TESSERA_PORT: 'http',
      TESSERA_SESSION_IDLE_TIMEOUT: 'soon',
      TESSERA_LOG_LEVEL: 'loud',
      TESSERA_PUBLIC_URL: 'ftp://auth.example',
      TESSERA_SIGNING_ALGORITHM: 'HS256',
      TESSERA_ACCESS_TOKEN_TTL: '1h',
    })
    const names = problems.map((problem) => problem.split(':')[0]).sort()
    assert.deepEqual(names, [
      'TESSERA_ACCESS_TOKEN_TTL',
      'TESSERA_LOG_LEVEL',
      'TESSERA_PORT',
      'TESSERA_PUBLIC_URL',
      'TESSERA_SESSION_IDLE_TIMEOUT',
      'TESSERA_SIGNING_ALGORITHM',
    ])
  })

  it('reports bounds: a port above 65535 and a password minimum below 8', () => {
    assertProblemFor({ TESSERA_PORT: '70000' }, 'TESSERA_PORT')
    assertProblemFor({ TESSERA_PASSWORD_MIN_LENGTH: '7' }, 'TESSERA_PASSWORD_MIN_LENGTH')
    assert.equal(loadConfig({ TESSERA_PORT: '65535' }).server.port, 65535)
    assert.equal(loadConfig({ TESSERA_PASSWORD_MIN_LENGTH: '8' }).passwords.minLength, 8)
  })

  it('reports an unknown TESSERA_ variable and ignores other variables', () => {
    assert.deepEqual(problemsOf({ TESSERA_PROT: '9000' }), ['TESSERA_PROT: unknown setting'])
    assert.doesNotThrow(() => loadConfig({ HOME: '/root', PORT: 'not-ours' }))
  })

  it('treats an empty variable as unset rather than leaving the setting undefined', () => {
    const config = loadConfig({
      TESSERA_HOST: '',
      TESSERA_SESSION_IDLE_TIMEOUT: '',
      TESSERA_ARGON2_MEMORY_KIB: '',
    })
    assert.equal(config.server.host, '127.0.0.1')
    assert.equal(config.sessions.idleTimeoutSeconds, 3600)
    assert.equal(config.passwords.argon2.memoryKiB, 19456)
  })

  it('refuses argon2 parameters below the OWASP floor for their pass count', () => {
    assertProblemFor({ TESSERA_ARGON2_MEMORY_KIB: '19455', TESSERA_ARGON2_PASSES: '2' }, 'TESSERA_ARGON2_MEMORY_KIB')
    assertProblemFor({ TESSERA_ARGON2_MEMORY_KIB: '47103', TESSERA_ARGON2_PASSES: '1' }, 'TESSERA_ARGON2_MEMORY_KIB')
    assertProblemFor({ TESSERA_ARGON2_MEMORY_KIB: '12287', TESSERA_ARGON2_PASSES: '3' }, 'TESSERA_ARGON2_MEMORY_KIB')
  })

  it('accepts argon2 parameters at the OWASP floor for their pass count', () => {
    const floors = [
      { memory: '47104', passes: '1' },
      { memory: '19456', passes: '2' },
      { memory: '12288', passes: '3' },
      { memory: '12288', passes: '5' },
    ]
    for (const { memory, passes } of floors) {
      const config = loadConfig({ TESSERA_ARGON2_MEMORY_KIB: memory, TESSERA_ARGON2_PASSES: passes })
      assert.deepEqual(config.passwords.argon2, { memoryKiB: Number(memory), passes: Number(passes), parallelism: 1 })
    }
  })

  it('refuses an idle timeout longer than the absolute timeout', () => {
    assertProblemFor(
      { TESSERA_SESSION_IDLE_TIMEOUT: '2h', TESSERA_SESSION_ABSOLUTE_TIMEOUT: '1h' },
      'TESSERA_SESSION_IDLE_TIMEOUT',
    )
    const equal = { TESSERA_SESSION_IDLE_TIMEOUT: '1h', TESSERA_SESSION_ABSOLUTE_TIMEOUT: '1h' }
    assert.doesNotThrow(() => loadConfig(equal))
  })

  it('requires the bootstrap admin username and password file together', () => {
    assertProblemFor({ TESSERA_BOOTSTRAP_ADMIN_USERNAME: 'root' }, 'TESSERA_BOOTSTRAP_ADMIN_USERNAME')
    assertProblemFor({ TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: '/run/secrets/pw' }, 'TESSERA_BOOTSTRAP_ADMIN_USERNAME')
    const config = loadConfig({
      TESSERA_BOOTSTRAP_ADMIN_USERNAME: 'root',
      TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: '/run/secrets/pw',
    })
    assert.deepEqual(config.bootstrap, { adminUsername: 'root', adminPasswordFile: '/run/secrets/pw' })
  })

  it('derives issuer, audience and allowed origins from the public URL', () => {
    const config = loadConfig({
      TESSERA_PUBLIC_URL: 'https://auth.example/',
      TESSERA_ALLOWED_ORIGINS: 'https://app.example, https://auth.example',
    })
    assert.equal(config.tokens.issuer, 'https://auth.example')
    assert.equal(config.tokens.audience, 'https://auth.example')
    assert.deepEqual(config.server.allowedOrigins, ['https://auth.example', 'https://app.example'])
    assert.equal(loadConfig({ TESSERA_AUDIENCE: 'games-api' }).tokens.audience, 'games-api')
  })

  it('reads the client id of access tokens and refuses one with spaces, controls or over 128 characters', () => {
    assert.equal(loadConfig({ TESSERA_CLIENT_ID: 'arena-web' }).tokens.clientId, 'arena-web')
    for (const bad of ['two words', 'tab\there', 'x'.repeat(129), 'caf\u00e9']) {
      assertProblemFor({ TESSERA_CLIENT_ID: bad }, 'TESSERA_CLIENT_ID')
    }
  })

  it('refuses an allowed origin that is not a bare origin', () => {
    assertProblemFor({ TESSERA_ALLOWED_ORIGINS: 'https://app.example/path' }, 'TESSERA_ALLOWED_ORIGINS')
    assertProblemFor({ TESSERA_ALLOWED_ORIGINS: 'app.example' }, 'TESSERA_ALLOWED_ORIGINS')
  })

  it('reads a config file and lets the environment override it', () => {
    const path = writeConfigFile(
      'precedence.json',
      JSON.stringify({
        TESSERA_PORT: 9000,
        TESSERA_HOST: '0.0.0.0',
        TESSERA_ALLOWED_ORIGINS: ['https://a.example'],
        TESSERA_ALLOW_INSECURE_COOKIES: true,
        TESSERA_METRICS_TOKEN: 'scrape-token-for-tests',
      }),
    )
    const config = loadConfig({ TESSERA_CONFIG_FILE: path, TESSERA_PORT: '9100' })
    assert.equal(config.server.port, 9100)
    assert.equal(config.server.host, '0.0.0.0')
    assert.ok(config.server.allowedOrigins.includes('https://a.example'))
  })

  it('validates config file values like environment values', () => {
    const path = writeConfigFile('bad-value.json', JSON.stringify({ TESSERA_PORT: 'http' }))
    assertProblemFor({ TESSERA_CONFIG_FILE: path }, 'TESSERA_PORT')
  })

  it('reports an unknown setting in the config file', () => {
    const path = writeConfigFile('unknown.json', JSON.stringify({ TESSERA_PROT: 9000 }))
    const problems = problemsOf({ TESSERA_CONFIG_FILE: path })
    assert.ok(
      problems.some((problem) => problem.startsWith('TESSERA_PROT:')),
      problems.join('\n'),
    )
  })

  it('reports a config file that is not a JSON object', () => {
    assertProblemFor({ TESSERA_CONFIG_FILE: writeConfigFile('broken.json', '{ not json') }, 'TESSERA_CONFIG_FILE')
    assertProblemFor({ TESSERA_CONFIG_FILE: writeConfigFile('array.json', '[1, 2]') }, 'TESSERA_CONFIG_FILE')
    assertProblemFor({ TESSERA_CONFIG_FILE: join(scratch, 'missing.json') }, 'TESSERA_CONFIG_FILE')
  })
})

describe('audit, review and alert settings', () => {
  it('loadConfig() reads schedules, thresholds and the webhook, and defaults to 5 min / 23:00 / 90 days', () => {
    const defaults = loadConfig({})
    assert.equal(defaults.audit.schedules.review, '*/5 * * * *')
    assert.equal(defaults.audit.schedules.report, '0 23 * * *')
    assert.equal(defaults.audit.retentionSeconds, 90 * 86_400)
    assert.equal(defaults.audit.webhook, null)
    const custom = loadConfig({
      TESSERA_REVIEW_SCHEDULE: '*/2 * * * *',
      TESSERA_SCHEDULE_TIMEZONE: 'Asia/Seoul',
      TESSERA_REVIEW_SPRAY_ACCOUNTS: '30',
      TESSERA_ALERT_WEBHOOK_URL: 'https://hooks.example/tessera',
      TESSERA_ALERT_WEBHOOK_SECRET: 'a-long-enough-shared-secret',
    })
    assert.equal(custom.audit.schedules.timezone, 'Asia/Seoul')
    assert.equal(custom.audit.rules.sprayAccountThreshold, 30)
    assert.equal(custom.audit.webhook?.url, 'https://hooks.example/tessera')
  })

  it('loadConfig() refuses a bad cron expression, an unknown time zone and a half-configured webhook', () => {
    assert.throws(
      () =>
        loadConfig({
          TESSERA_REPORT_SCHEDULE: 'nightly',
          TESSERA_SCHEDULE_TIMEZONE: 'Mars/Olympus',
          TESSERA_ALERT_WEBHOOK_SECRET: 'a-long-enough-shared-secret',
        }),
      (error) =>
        error instanceof ConfigError &&
        error.problems.some((problem) => problem.startsWith('TESSERA_REPORT_SCHEDULE:')) &&
        error.problems.some((problem) => problem.startsWith('TESSERA_SCHEDULE_TIMEZONE:')) &&
        error.problems.some((problem) => problem.startsWith('TESSERA_ALERT_WEBHOOK_URL:')),
    )
  })

  it('describeConfig() hides the webhook secret and the metrics token', () => {
    const shown = JSON.stringify(
      describeConfig(
        loadConfig({
          TESSERA_ALERT_WEBHOOK_URL: 'https://hooks.example/tessera',
          TESSERA_ALERT_WEBHOOK_SECRET: 'a-long-enough-shared-secret',
          TESSERA_METRICS_TOKEN: 'metrics-token-value',
        }),
      ),
    )
    assert.ok(!shown.includes('a-long-enough-shared-secret') && !shown.includes('metrics-token-value'))
    assert.match(shown, /\(set, hidden\)/)
  })
})

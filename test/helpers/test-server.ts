/**
 * A real Tessera over real HTTP on 127.0.0.1, on the in-memory SQLite store (or stores a test
 * opens) with a manual clock.
 * Argon2 runs with small parameters unless a test asks for the production ones.
 */
import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import { loadConfig, type Config } from '../../src/config/load.ts'
import { toApplicationSettings } from '../../src/config/application-settings.ts'
import { createApplication, type Application } from '../../src/core/application/application.ts'
import type { AuditEventRecord } from '../../src/core/audit/events.ts'
import { silentObserver } from '../../src/core/observer.ts'
import type { Stores } from '../../src/core/stores.ts'
import { createKeyProtector } from '../../src/core/tokens/key-protection.ts'
import { createKeyRing, type SigningKey } from '../../src/core/tokens/signing-keys.ts'
import { buildApp, createLoggerOptions } from '../../src/http/app.ts'
import { createSmtpMailer } from '../../src/background/smtp-mailer.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'
import { loadOrCreateMasterKey } from '../../src/storage/master-key.ts'
import { join } from 'node:path'
import { createManualClock, type ManualClock } from './manual-clock.ts'

export interface TestServer {
  url: string
  application: Application
  stores: Stores
  clock: ManualClock
  config: Config
  /** Every audit event the application stored, in order. */
  auditEvents: AuditEventRecord[]
  /** The key tokens are signed with now, private part included (to forge tokens in tests). */
  readSigningKey(): Promise<SigningKey>
  request(path: string, init?: TestRequestInit): Promise<TestResponse>
}

export interface TestRequestInit {
  method?: string
  body?: unknown
  /** Sent as is, without JSON encoding. */
  rawBody?: string | Uint8Array
  headers?: Record<string, string>
  bearer?: string
  cookie?: string
}

export interface TestResponse {
  status: number
  headers: Headers
  text: string
  json: any
}

export async function startTestServer(
  t: TestContext,
  env: Record<string, string> = {},
  options: {
    realArgon2?: boolean
    clockStart?: Date
    dataDir?: string
    port?: number
    /** Other stores than the in-memory SQLite (PostgreSQL, Redis); closed when the test ends. */
    openStores?: (now: Date) => Promise<Stores>
    /** Collects every line the server logs, at trace level, with the production log options. */
    logLines?: string[]
  } = {},
): Promise<TestServer> {
  // A request here may wait behind a burst of a hundred password hashes on a machine busy with
  // the test files beside this one: the default 3 s request timeout, and the socket's 13 s of
  // silence that go with it, would cut it off unanswered. The timeout tests set their own.
  const loaded = loadConfig({ TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'silent', TESSERA_REQUEST_TIMEOUT: '30s', ...env })
  const config: Config = options.realArgon2
    ? loaded
    : { ...loaded, passwords: { ...loaded.passwords, argon2: { memoryKiB: 1024, passes: 1, parallelism: 1 } } }
  const clock = createManualClock(options.clockStart)
  const stores = options.openStores
    ? await options.openStores(clock.now())
    : openSqliteStores(options.dataDir ?? ':memory:', clock.now())
  const auditEvents: AuditEventRecord[] = []
  const masterKey = options.dataDir ? loadOrCreateMasterKey(join(options.dataDir, 'master.key')) : randomBytes(32)
  // Mail goes to the relay of TESSERA_SMTP_URL, as on a real server (tests run one in-process).
  const mailer = config.mail.smtp ? createSmtpMailer(config.mail.smtp) : null
  const application = await createApplication({
    stores,
    clock,
    masterKey,
    settings: toApplicationSettings(config),
    observer: { ...silentObserver, auditEventRecorded: (event) => void auditEvents.push(event) },
    mailer,
  })
  const logLines = options.logLines
  const logger = logLines
    ? { ...(createLoggerOptions('trace') as object), stream: { write: (line: string) => void logLines.push(line) } }
    : false
  const app = await buildApp({ config, application, logger })
  const url = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 })
  t.after(async () => {
    await app.close()
    await application.email.whenMailSent()
    mailer?.close()
    await stores.close()
  })
  return {
    url,
    application,
    stores,
    clock,
    config,
    auditEvents,
    async readSigningKey() {
      const keyRing = createKeyRing({
        store: stores.signingKeys,
        clock,
        protector: createKeyProtector(masterKey),
        settings: config.tokens,
      })
      await keyRing.loadKeys()
      return keyRing.currentSigningKey()
    },
    async request(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers }
      let body: string | Uint8Array | undefined = init.rawBody
      if (init.body !== undefined) {
        body = JSON.stringify(init.body)
        headers['content-type'] ??= 'application/json'
      }
      if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`
      if (init.cookie !== undefined) headers.cookie = init.cookie
      const response = await fetch(`${url}${path}`, {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        body,
      })
      const text = await response.text()
      let json: unknown = null
      try {
        json = text === '' ? null : JSON.parse(text)
      } catch {
        json = null
      }
      return { status: response.status, headers: response.headers, text, json }
    },
  }
}

export const strongPassword = 'correct horse battery staple'

let counter = 0
export function uniqueUsername(prefix = 'user'): string {
  counter += 1
  return `${prefix}${counter}_${randomBytes(3).toString('hex')}`
}

export async function registerUser(
  server: TestServer,
  username = uniqueUsername(),
  password = strongPassword,
): Promise<{ username: string; password: string; id: string }> {
  const response = await server.request('/v1/auth/register', { body: { username, password } })
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${response.text}`)
  return { username, password, id: response.json.id }
}

export async function logInWithToken(server: TestServer, username: string, password = strongPassword) {
  const response = await server.request('/v1/auth/login', { body: { username, password } })
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`)
  return response.json as {
    access_token: string
    refresh_token: string
    session_id: string
    expires_in: number
    token_type: string
  }
}

/** Logs in with the cookie transport; returns the `Cookie` header value to send back. */
export async function logInWithCookie(server: TestServer, username: string, password = strongPassword) {
  const response = await server.request('/v1/auth/login', { body: { username, password, mode: 'cookie' } })
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`)
  const setCookie = response.headers.get('set-cookie') ?? ''
  const value = /__Host-session=([^;]*)/.exec(setCookie)?.[1] ?? ''
  return { cookie: `__Host-session=${value}`, token: value, setCookie, body: response.json }
}

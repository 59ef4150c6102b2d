/**
 * A real Tessera over HTTP for the audit, review, alert and metrics tests: in-memory SQLite, a
 * manual clock, Prometheus metrics, and the JSON log captured line by line. `requestFrom()`
 * sends a request from another loopback address (127.0.0.0/8 all reaches the server on Linux),
 * so tests play many clients with real, distinct source addresses: nothing is forged.
 */
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import type { TestContext } from 'node:test'
import { Writable } from 'node:stream'
import { toApplicationSettings } from '../../src/config/application-settings.ts'
import { loadConfig, type Config } from '../../src/config/load.ts'
import { createWebhookPoster } from '../../src/background/webhook-poster.ts'
import { createApplication, type Application } from '../../src/core/application/application.ts'
import type { Stores } from '../../src/core/stores.ts'
import { buildApp, createLoggerOptions } from '../../src/http/app.ts'
import { createMetrics } from '../../src/metrics/metrics.ts'
import { createServerObserver, stderrLog } from '../../src/metrics/server-observer.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'
import { createManualClock, type ManualClock } from './manual-clock.ts'
import type { TestRequestInit, TestResponse } from './test-server.ts'

export interface AuditTestServer {
  url: string
  application: Application
  stores: Stores
  clock: ManualClock
  config: Config
  /** Every line the server logged, as written. */
  logLines: string[]
  request(path: string, init?: TestRequestInit): Promise<TestResponse>
  /** The same request, sent from `ip` (an address in 127.0.0.0/8). */
  requestFrom(ip: string, path: string, init?: TestRequestInit): Promise<TestResponse>
}

export async function startAuditServer(
  t: TestContext,
  env: Record<string, string> = {},
  options: { logLevel?: string } = {},
): Promise<AuditTestServer> {
  const loaded = loadConfig({
    TESSERA_PORT: '0',
    TESSERA_NODE_ID: 'test-node',
    TESSERA_SCHEDULE_TIMEZONE: 'UTC',
    // The review's own tests play whole attacks; throttling (tested on its own) would cut them short.
    TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '90',
    TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '90',
    TESSERA_THROTTLE_IP_THRESHOLD: '100000',
    // A replayed refresh token is reuse at once here; the grace window has its own tests.
    TESSERA_REFRESH_GRACE: '0s',
    ...env,
  })
  const config: Config = {
    ...loaded,
    passwords: { ...loaded.passwords, argon2: { memoryKiB: 1024, passes: 1, parallelism: 1 } },
  }
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  const metrics = createMetrics()
  const observer = createServerObserver(metrics.observer, stderrLog)
  const application = await createApplication({
    stores,
    clock,
    masterKey: randomBytes(32),
    settings: toApplicationSettings(config),
    observer,
    postWebhook: createWebhookPoster(config.audit.webhook?.timeoutSeconds ?? 5),
  })
  metrics.countActiveSessionsWith(() => application.health.countActiveSessions())
  const logLines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line !== ''),
      )
      callback()
    },
  })
  const loggerOptions = createLoggerOptions(options.logLevel ?? 'info') as Record<string, unknown>
  const app = await buildApp({ config, application, logger: { ...loggerOptions, stream }, metrics })
  observer.attachLog(app.log)
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.after(async () => {
    await app.close()
    await stores.close()
  })
  const send = (path: string, init: TestRequestInit = {}, localAddress?: string) =>
    sendRequest(url, path, init, localAddress)
  return {
    url,
    application,
    stores,
    clock,
    config,
    logLines,
    request: (path, init) => send(path, init),
    requestFrom: (ip, path, init) => send(path, init, ip),
  }
}

function sendRequest(
  baseUrl: string,
  path: string,
  init: TestRequestInit,
  localAddress?: string,
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...init.headers }
  let body: string | Uint8Array | undefined = init.rawBody
  if (init.body !== undefined) {
    body = JSON.stringify(init.body)
    headers['content-type'] ??= 'application/json'
  }
  if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`
  if (init.cookie !== undefined) headers.cookie = init.cookie
  const target = new URL(path, baseUrl)
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        ...(localAddress === undefined ? {} : { localAddress }),
      },
      (incoming) => {
        const chunks: Buffer[] = []
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let json: unknown = null
          try {
            json = text === '' ? null : JSON.parse(text)
          } catch {
            json = null
          }
          const responseHeaders = new Headers()
          for (const [name, value] of Object.entries(incoming.headers)) {
            for (const item of [value ?? []].flat()) responseHeaders.append(name, item)
          }
          resolve({ status: incoming.statusCode ?? 0, headers: responseHeaders, text, json })
        })
      },
    )
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

/** Registers an account straight through the core (fast set-up) and returns its id. */
export async function createAccount(
  server: AuditTestServer,
  username: string,
  password: string,
  roles: string[] = ['user'],
) {
  const user = await server.application.accountAdmin.createUser(
    { username, password, roles },
    { actorUserId: null, context: { ip: null, userAgent: 'test-setup', requestId: null } },
  )
  return user.id
}

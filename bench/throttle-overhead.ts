/**
 * What throttling costs. Two servers on fresh data directories, identical except that one keeps
 * its throttle counters in SQLite (as in production) and the other in a store that remembers
 * nothing, so its throttle never reads or writes anything. Measured, interleaved:
 *
 * - POST /v1/auth/login with production argon2id parameters (the path throttling sits on);
 * - GET /v1/me with a bearer token (a path throttling must not touch);
 * - the throttle's own work per sign-in, timed directly against SQLite;
 * - a throttled sign-in (429), which must stay cheap.
 *
 * Run: node bench/throttle-overhead.ts [--logins N] [--requests N]
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../src/config/load.ts'
import { systemClock } from '../src/core/clock.ts'
import { toApplicationSettings } from '../src/config/application-settings.ts'
import { createApplication } from '../src/core/application/application.ts'
import { createOfflineContext } from '../src/core/request-context.ts'
import type { Stores } from '../src/core/stores.ts'
import type { ThrottleStore } from '../src/core/throttle/store.ts'
import { createThrottle } from '../src/core/throttle/throttle.ts'
import { buildApp } from '../src/http/app.ts'
import { openSqliteStores } from '../src/storage/sqlite/open.ts'

const { values } = parseArgs({
  options: { logins: { type: 'string', default: '150' }, requests: { type: 'string', default: '3000' } },
})
const loginCount = Number(values.logins)
const meCount = Number(values.requests)
const password = 'correct horse battery staple'

const forgetfulThrottleStore: ThrottleStore = {
  readThrottles: async (keys) => keys.map(() => null),
  chargeThrottles: async (charges) => ({ outcome: 'admitted', counts: charges.map(() => 0) }),
  settleThrottleFailures: async () => {},
  refundThrottles: async () => {},
  incrementThrottles: async (increments) => increments.map(() => 0),
  deleteThrottles: async () => 0,
  deleteThrottlesByPrefix: async () => 0,
  deleteExpiredThrottles: async () => 0,
}

const root = mkdtempSync(join(tmpdir(), 'tessera-bench-throttle-'))
const config = loadConfig({ TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'silent', TESSERA_DATA_DIR: root })

async function startServer(name: string, isThrottled: boolean) {
  const sqlite = openSqliteStores(join(root, name), systemClock.now())
  const stores: Stores = isThrottled ? sqlite : { ...sqlite, throttles: forgetfulThrottleStore }
  const application = await createApplication({
    stores,
    clock: systemClock,
    masterKey: randomBytes(32),
    settings: toApplicationSettings(config),
  })
  const app = await buildApp({ config, application, logger: false })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  await application.signIn.register({ username: 'bench', password }, createOfflineContext('startup'))
  const login = async () => {
    const response = await fetch(`${url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench', password }),
    })
    const body = (await response.json()) as { access_token: string }
    if (response.status !== 200) throw new Error(`login answered ${response.status}`)
    return body.access_token
  }
  return { url, login, sqlite, close: async () => (await app.close(), await sqlite.close()) }
}

function summarise(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  return { median: at(0.5), p99: at(0.99) }
}

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return performance.now() - started
}

function percent(measured: number, baseline: number): string {
  return `${(((measured - baseline) / baseline) * 100).toFixed(1)} %`
}

const throttled = await startServer('throttled', true)
const unthrottled = await startServer('unthrottled', false)
try {
  // Warm up both (dummy hash, JIT, SQLite pages).
  for (let index = 0; index < 5; index += 1) await Promise.all([throttled.login(), unthrottled.login()])

  const loginWith: number[] = []
  const loginWithout: number[] = []
  for (let index = 0; index < loginCount; index += 1) {
    const [first, second] = index % 2 === 0 ? [throttled, unthrottled] : [unthrottled, throttled]
    const a = await time(first.login)
    const b = await time(second.login)
    ;(first === throttled ? loginWith : loginWithout).push(a)
    ;(second === throttled ? loginWith : loginWithout).push(b)
  }

  const tokenWith = await throttled.login()
  const tokenWithout = await unthrottled.login()
  const me = (url: string, token: string) => () =>
    fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${token}` } }).then((response) => response.arrayBuffer())
  const meWith: number[] = []
  const meWithout: number[] = []
  for (let index = 0; index < meCount; index += 1) {
    meWith.push(await time(me(throttled.url, tokenWith)))
    meWithout.push(await time(me(unthrottled.url, tokenWithout)))
  }

  // The throttle's own work for one successful sign-in, against the production store.
  const throttle = createThrottle({ store: throttled.sqlite.throttles, clock: systemClock, settings: config.throttle })
  const direct: number[] = []
  for (let index = 0; index < 2000; index += 1) {
    direct.push(
      await time(async () => {
        const attempt = await throttle.admitSignIn({ username: 'bench', ip: '127.0.0.1' })
        await attempt.recordSuccess()
      }),
    )
  }

  // A throttled sign-in: drive one address into back-off, then time the refusals.
  const refused: number[] = []
  const attempt = (body: unknown) =>
    fetch(`${throttled.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  for (let index = 0; index < 6; index += 1)
    await (await attempt({ username: 'victim', password: 'wrong wrong wrong' })).arrayBuffer()
  for (let index = 0; index < 200; index += 1) {
    refused.push(
      await time(async () => {
        const response = await attempt({ username: 'victim', password })
        if (response.status !== 429) throw new Error(`expected 429, got ${response.status}`)
        await response.arrayBuffer()
      }),
    )
  }

  const login = { with: summarise(loginWith), without: summarise(loginWithout) }
  const bearer = { with: summarise(meWith), without: summarise(meWithout) }
  const own = summarise(direct)
  const throttledAnswer = summarise(refused)
  const lines = [
    `throttling overhead (argon2id m=${config.passwords.argon2.memoryKiB} KiB, t=${config.passwords.argon2.passes}; ${loginCount} logins and ${meCount} /v1/me per server, interleaved)`,
    `  POST /v1/auth/login  median ${login.with.median.toFixed(2)} ms with throttling, ${login.without.median.toFixed(2)} ms without: ${percent(login.with.median, login.without.median)} (target < 10 %)`,
    `  throttle work per sign-in (SQLite, direct)  median ${(own.median * 1000).toFixed(0)} µs, p99 ${(own.p99 * 1000).toFixed(0)} µs = ${((own.median / login.without.median) * 100).toFixed(2)} % of a login`,
    `  GET /v1/me (bearer)  median ${bearer.with.median.toFixed(3)} ms with, ${bearer.without.median.toFixed(3)} ms without: ${percent(bearer.with.median, bearer.without.median)} (no throttle code on this path)`,
    `  throttled sign-in (429)  median ${throttledAnswer.median.toFixed(2)} ms, p99 ${throttledAnswer.p99.toFixed(2)} ms (target median < 20 ms)`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
} finally {
  await throttled.close()
  await unthrottled.close()
  rmSync(root, { recursive: true, force: true })
}

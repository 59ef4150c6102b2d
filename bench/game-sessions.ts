/**
 * Game sessions: device sign-ins per second (target ≥ 2,000 on two cores: a device secret is
 * checked with one SHA-256, no password hashing), and one-time ticket redemptions and
 * session-data reads per second, each against the `/healthz` floor measured the same way on the
 * same server (target ≥ 0.5× for both), each with the server CPU time per answer (steadier than
 * req/s on a shared machine). Each device sign-in opens a session (token transport:
 * an access token signed and a refresh token stored) and is audited, as a login is.
 * Tickets are issued just before their run (each redemption spends one): as many as the floor's
 * rate would redeem in the run (so running short shows as unexpected answers), all redeemed within
 * their 30 seconds. Loads run with wrk when it is installed (a C load generator leaves more of the
 * two cores to the server), else with autocannon. Reports, never fails.
 *
 * Run: node bench/game-sessions.ts [--duration S] [--connections N]
 */
import autocannon from 'autocannon'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { measureCpuUsage, takeCpuSnapshot } from './cpu-usage.ts'
import { createBenchCredentials } from './credentials.ts'
import { runLoad, summarizeLoad, type LoadOptions, type LoadRequest, type LoadTally } from './load.ts'
import { findWrk, runWrk, type WrkOneUseBodies } from './wrk.ts'
import { startServerProcess } from './server-process.ts'
import { readServerSettings } from './server-settings.ts'

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '4' }, connections: { type: 'string', default: '32' } },
})
const durationSeconds = Number(values.duration)
const connections = Number(values.connections)
const loadOptions: LoadOptions = { connections, durationSeconds, warmupSeconds: 1 }
const adminPassword = 'bench admin passphrase for game sessions'

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  if (response.status >= 300)
    throw new Error(`POST ${new URL(url).pathname} answered ${response.status}: ${await response.text()}`)
  return response.json()
}

/** Issues `count` tickets as fast as the server answers; the tickets and the issues per second. */
async function issueTickets(url: string, authorization: string, count: number) {
  const tickets: string[] = []
  const result = await autocannon({
    url,
    connections,
    amount: count,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/v1/tickets',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ audience: 'bench' }),
        onResponse: (status, body) => {
          if (status === 201) tickets.push((JSON.parse(body) as { ticket: string }).ticket)
        },
      },
    ],
  })
  return { tickets, perSecond: result['2xx'] / result.duration }
}

const wrkVersion = findWrk()

/** One load against the server, with wrk when it is installed. */
function load(
  target: { url: string; pid: number },
  request: LoadRequest,
  oneUse?: WrkOneUseBodies,
): Promise<LoadTally> {
  if (wrkVersion !== null) return runWrk(target, request, loadOptions, oneUse ?? null)
  if (oneUse !== undefined) throw new Error('one-use bodies need wrk')
  return runLoad(target, request, loadOptions)
}

/** Redeems every ticket once (autocannon, without wrk); redemptions per second answered 200, any other answer, and server CPU. */
async function redeemTickets(url: string, pid: number, tickets: string[], authorization: string) {
  let next = 0
  const cpuAtStart = takeCpuSnapshot(pid)
  const result = await autocannon({
    url,
    connections,
    amount: tickets.length,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/v1/tickets/redeem',
        headers: { 'content-type': 'application/json', authorization },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ ticket: tickets[next++] ?? 'exhausted', audience: 'bench' }),
        }),
      },
    ],
  })
  const cpu = measureCpuUsage(cpuAtStart, takeCpuSnapshot(pid))
  const answered = result['2xx'] + result.non2xx
  return {
    perSecond: result['2xx'] / result.duration,
    non2xx: result.non2xx,
    redeemed: result['2xx'],
    serverCpuMsPerRequest: cpu === null || answered === 0 ? null : (cpu.serverCpuSeconds * 1000) / answered,
  }
}

/** Server CPU per answer in microseconds, the steadier cost figure on a shared machine. */
function formatCpu(serverCpuMsPerRequest: number | null): string {
  return serverCpuMsPerRequest === null ? 'CPU n/a' : `${(serverCpuMsPerRequest * 1000).toFixed(0)} µs CPU/req`
}

function ratio(value: number, floor: number): string {
  return floor > 0 ? `${(value / floor).toFixed(2)}×` : 'n/a'
}

/**
 * Ticket redemptions per second. With wrk: as many tickets as the floor's rate would redeem in the
 * warm-up and the run, each sent once. Without: a fixed number through autocannon.
 */
async function measureRedemption(floorPerSecond: number, playerAuthorization: string, basic: string) {
  const target = { url: server.url, pid: server.pid }
  if (wrkVersion === null) {
    const count = Math.max(connections * 10, Math.min(20_000, Math.ceil(floorPerSecond * Math.min(durationSeconds, 5))))
    const issued = await issueTickets(server.url, playerAuthorization, count)
    const result = await redeemTickets(server.url, server.pid, issued.tickets, basic)
    return { ...result, issued: issued.tickets.length, issuedPerSecond: issued.perSecond }
  }
  const warmupCount = Math.ceil(floorPerSecond * loadOptions.warmupSeconds)
  // Bounded so that issuing them all takes well under their 30 seconds.
  const count = Math.min(80_000, Math.ceil(floorPerSecond * durationSeconds))
  const issued = await issueTickets(server.url, playerAuthorization, warmupCount + count)
  // The background checkpoint of the issues' log runs on for a moment after them; its CPU belongs
  // to the issuing, not to the redemptions measured next (all still well within their 30 s).
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const bodies = issued.tickets.map((ticket) => JSON.stringify({ ticket, audience: 'bench' }))
  const request: LoadRequest = {
    method: 'POST',
    path: '/v1/tickets/redeem',
    headers: { 'content-type': 'application/json', authorization: basic },
  }
  const tally = await load(target, request, {
    warmupBodies: bodies.slice(0, warmupCount),
    bodies: bodies.slice(warmupCount),
  })
  const summary = summarizeLoad(tally, loadOptions)
  return {
    perSecond: summary.requestsPerSecond,
    non2xx: summary.completed - tally.successCount,
    redeemed: tally.successCount,
    serverCpuMsPerRequest: summary.serverCpuMsPerRequest,
    issued: bodies.length - warmupCount,
    issuedPerSecond: issued.perSecond,
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-game-'))
const passwordFile = join(dir, 'admin-password')
writeFileSync(passwordFile, adminPassword, { mode: 0o600 })
const server = await startServerProcess({
  entry: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
  settings: {
    ...readServerSettings(process.env),
    TESSERA_BOOTSTRAP_ADMIN_USERNAME: 'bench-admin',
    TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: passwordFile,
  },
})
try {
  const player = await createBenchCredentials(server.url)
  const admin = await postJson(`${server.url}/v1/auth/login`, { username: 'bench-admin', password: adminPassword })
  const client = await postJson(
    `${server.url}/v1/admin/clients`,
    { name: 'bench-game-server' },
    { authorization: `Bearer ${admin.access_token}` },
  )
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`
  const bearer = { authorization: `Bearer ${player.accessToken}` }

  const dataResponse = await fetch(`${server.url}/v1/sessions/current/data`, {
    method: 'PUT',
    headers: { ...bearer, 'content-type': 'application/json', 'if-match': '"0"' },
    body: JSON.stringify({ cart: ['sword', 'shield'], gold: 120, position: { x: 10, y: 4 } }),
  })
  if (dataResponse.status !== 200) throw new Error(`PUT session data answered ${dataResponse.status}`)

  const device = await postJson(`${server.url}/v1/auth/device`, { device_id: 'bench-device-0001' })
  const deviceBody = JSON.stringify({ device_id: 'bench-device-0001', device_secret: device.device_secret })
  const deviceSignIn = summarizeLoad(
    await load(server, {
      method: 'POST',
      path: '/v1/auth/device',
      headers: { 'content-type': 'application/json' },
      body: deviceBody,
    }),
    loadOptions,
  )

  const floor = summarizeLoad(await load(server, { method: 'GET', path: '/healthz' }), loadOptions)
  const data = summarizeLoad(
    await load(server, { method: 'GET', path: '/v1/sessions/current/data', headers: bearer }),
    loadOptions,
  )
  const redemption = await measureRedemption(floor.requestsPerSecond, bearer.authorization, basic)

  const lines = [
    `POST /v1/auth/device (sign-in)        ${deviceSignIn.requestsPerSecond.toFixed(0).padStart(7)} req/s  p99 ${deviceSignIn.latencyP99Ms.toFixed(2)} ms  ${formatCpu(deviceSignIn.serverCpuMsPerRequest)}  (target ≥ 2000/s)${deviceSignIn.unexpectedCount > 0 ? `; ${deviceSignIn.unexpectedCount} not 200` : ''}`,
    `GET /healthz (floor)                  ${floor.requestsPerSecond.toFixed(0).padStart(7)} req/s  p99 ${floor.latencyP99Ms.toFixed(2)} ms  ${formatCpu(floor.serverCpuMsPerRequest)}`,
    `GET /v1/sessions/current/data         ${data.requestsPerSecond.toFixed(0).padStart(7)} req/s  p99 ${data.latencyP99Ms.toFixed(2)} ms  ${formatCpu(data.serverCpuMsPerRequest)}  ${ratio(data.requestsPerSecond, floor.requestsPerSecond)} the floor (target ≥ 0.5×)`,
    `POST /v1/tickets/redeem               ${redemption.perSecond.toFixed(0).padStart(7)} req/s  ${formatCpu(redemption.serverCpuMsPerRequest)}  ${ratio(redemption.perSecond, floor.requestsPerSecond)} the floor (target ≥ 0.5×); ${redemption.redeemed} of ${redemption.issued} redeemed, ${redemption.non2xx} other answers`,
    `POST /v1/tickets (issuing)            ${redemption.issuedPerSecond.toFixed(0).padStart(7)} req/s`,
  ]
  if (data.unexpectedCount > 0) lines.push(`warning: ${data.unexpectedCount} session-data reads did not answer 200`)
  console.log(
    [
      `game sessions (SQLite, one node; ${wrkVersion === null ? 'autocannon' : `wrk ${wrkVersion}`})`,
      ...lines.map((line) => `  ${line}`),
    ].join('\n'),
  )
} finally {
  await server.stop()
  rmSync(dir, { recursive: true, force: true })
}

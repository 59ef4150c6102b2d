/**
 * Game sessions: device sign-ins per second (target ≥ 2,000 on two cores: a device secret is
 * checked with one SHA-256, no password hashing), and one-time ticket redemptions and
 * session-data reads per second, each against the `/healthz` floor measured the same way on the
 * same server (target ≥ 0.5× for both), each with the server CPU time per answer (steadier than
 * req/s on a shared machine). Each device sign-in opens a session (token transport:
 * an access token signed and a refresh token stored) and is audited, as a login is.
 * The reads and the redemptions are measured in pairs with the floor: a floor slice and the
 * route's slice back to back (the floor first in one pair, last in the next), several times; each
 * pair gives a ratio, and the figure is the median pair (a shared virtual machine's speed drifts by
 * half within a minute, and a floor taken once, twenty seconds before, moved the ratio by as
 * much). Each pair's tickets are issued just before it (each redemption spends one): a quarter
 * more than the floor's rate would redeem in the slice (running short shows as unexpected
 * answers), all redeemed within their 30 seconds. Loads run with wrk when it is installed (a C
 * load generator leaves more of the two cores to the server),
 * else with autocannon. Reports, never fails.
 *
 * Run: node bench/game-sessions.ts [--duration S (sign-ins)] [--connections N] [--pairs N] [--slice S (each slice)]
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
import { median } from './statistics.ts'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '32' },
    pairs: { type: 'string', default: '5' },
    slice: { type: 'string', default: '2' },
  },
})
const durationSeconds = Number(values.duration)
const connections = Number(values.connections)
const pairCount = Number(values.pairs)
const loadOptions: LoadOptions = { connections, durationSeconds, warmupSeconds: 1 }
const sliceOptions: LoadOptions = { connections, durationSeconds: Number(values.slice), warmupSeconds: 1 }
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
  options: LoadOptions = loadOptions,
  oneUse?: WrkOneUseBodies,
): Promise<LoadTally> {
  if (wrkVersion !== null) return runWrk(target, request, options, oneUse ?? null)
  if (oneUse !== undefined) throw new Error('one-use bodies need wrk')
  return runLoad(target, request, options)
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

/** One slice of a route, and the floor slice run just before or after it. */
interface PairedSlice {
  floor: { perSecond: number; serverCpuMsPerRequest: number | null }
  route: { perSecond: number; serverCpuMsPerRequest: number | null; p99Ms: number | null }
}

/** The pairs in one line: median rate, CPU and ratio, and the ratios' range. */
function describePairs(pairs: readonly PairedSlice[]) {
  const ratios = pairs.map((pair) => (pair.floor.perSecond > 0 ? pair.route.perSecond / pair.floor.perSecond : 0))
  const cpu = (values: (number | null)[]) => {
    const known = values.filter((value): value is number => value !== null)
    return known.length === 0 ? null : median(known)
  }
  const p99s = pairs.map((pair) => pair.route.p99Ms).filter((value): value is number => value !== null)
  return {
    perSecond: median(pairs.map((pair) => pair.route.perSecond)),
    p99: p99s.length === 0 ? '' : `p99 ${median(p99s).toFixed(2)} ms  `,
    cpu: formatCpu(cpu(pairs.map((pair) => pair.route.serverCpuMsPerRequest))),
    ratio: `${median(ratios).toFixed(2)}× the floor (median of ${pairs.length} pairs, ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×)`,
  }
}

const floorRequest: LoadRequest = { method: 'GET', path: '/healthz' }

/** The floor's and the route's slice of one pair, the floor first in even pairs and last in odd ones. */
async function inTurn<F, R>(pair: number, floor: () => Promise<F>, route: () => Promise<R>): Promise<[F, R]> {
  if (pair % 2 === 0) {
    const floorResult = await floor()
    return [floorResult, await route()]
  }
  const routeResult = await route()
  return [await floor(), routeResult]
}

/** One floor slice. */
async function measureFloorSlice(): Promise<PairedSlice['floor']> {
  const summary = summarizeLoad(await load(server, floorRequest, sliceOptions), sliceOptions)
  return { perSecond: summary.requestsPerSecond, serverCpuMsPerRequest: summary.serverCpuMsPerRequest }
}

/**
 * One pair of ticket redemptions: tickets issued, a pause, then a floor slice and the redemption
 * slice. With wrk: as many tickets as the last floor's rate would redeem in the warm-up and the
 * slice (a quarter more), each sent once. Without: a fixed number through autocannon.
 */
async function measureRedemptionPair(pair: number, floorPerSecond: number, playerAuthorization: string, basic: string) {
  const withWrk = wrkVersion !== null
  // A quarter more than the last floor's rate: the machine may have sped up since.
  const supply = floorPerSecond * 1.25
  const warmupCount = withWrk ? Math.ceil(supply * sliceOptions.warmupSeconds) : 0
  // Bounded so that issuing them all takes well under their 30 seconds.
  const count = withWrk
    ? Math.min(80_000, Math.ceil(supply * sliceOptions.durationSeconds))
    : Math.max(connections * 10, Math.min(20_000, Math.ceil(floorPerSecond * sliceOptions.durationSeconds)))
  const issued = await issueTickets(server.url, playerAuthorization, warmupCount + count)
  // The background checkpoint of the issues' log runs on for a moment after them; its CPU belongs
  // to the issuing, not to the loads measured next (all still well within the tickets' 30 s).
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const issuedCounts = { issued: count, issuedPerSecond: issued.perSecond }
  if (!withWrk) {
    const [floor, result] = await inTurn(pair, measureFloorSlice, () =>
      redeemTickets(server.url, server.pid, issued.tickets, basic),
    )
    const route = { perSecond: result.perSecond, serverCpuMsPerRequest: result.serverCpuMsPerRequest, p99Ms: null }
    return { floor, route, non2xx: result.non2xx, redeemed: result.redeemed, ...issuedCounts }
  }
  const bodies = issued.tickets.map((ticket) => JSON.stringify({ ticket, audience: 'bench' }))
  const request: LoadRequest = {
    method: 'POST',
    path: '/v1/tickets/redeem',
    headers: { 'content-type': 'application/json', authorization: basic },
  }
  const redeem = () =>
    load(server, request, sliceOptions, {
      warmupBodies: bodies.slice(0, warmupCount),
      bodies: bodies.slice(warmupCount),
    })
  const [floor, tally] = await inTurn(pair, measureFloorSlice, redeem)
  const summary = summarizeLoad(tally, sliceOptions)
  const route = {
    perSecond: summary.requestsPerSecond,
    serverCpuMsPerRequest: summary.serverCpuMsPerRequest,
    p99Ms: summary.latencyP99Ms,
  }
  return { floor, route, non2xx: summary.completed - tally.successCount, redeemed: tally.successCount, ...issuedCounts }
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

  const dataRequest: LoadRequest = { method: 'GET', path: '/v1/sessions/current/data', headers: bearer }
  const dataPairs: PairedSlice[] = []
  let dataUnexpected = 0
  for (let pair = 0; pair < pairCount; pair += 1) {
    const measureData = async () => summarizeLoad(await load(server, dataRequest, sliceOptions), sliceOptions)
    const [floor, data] = await inTurn(pair, measureFloorSlice, measureData)
    dataUnexpected += data.unexpectedCount
    const route = {
      perSecond: data.requestsPerSecond,
      serverCpuMsPerRequest: data.serverCpuMsPerRequest,
      p99Ms: data.latencyP99Ms,
    }
    dataPairs.push({ floor, route })
  }

  const redemptionPairs: Awaited<ReturnType<typeof measureRedemptionPair>>[] = []
  for (let pair = 0; pair < pairCount; pair += 1) {
    const lastFloor = (redemptionPairs.at(-1) ?? dataPairs.at(-1))?.floor.perSecond ?? 0
    redemptionPairs.push(await measureRedemptionPair(pair, lastFloor, bearer.authorization, basic))
  }

  const floors = [...dataPairs, ...redemptionPairs].map((pair) => pair.floor)
  const floorCpu = floors.map((floor) => floor.serverCpuMsPerRequest).filter((value): value is number => value !== null)
  const data = describePairs(dataPairs)
  const redemption = describePairs(redemptionPairs)
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)
  const lines = [
    `POST /v1/auth/device (sign-in)        ${deviceSignIn.requestsPerSecond.toFixed(0).padStart(7)} req/s  p99 ${deviceSignIn.latencyP99Ms.toFixed(2)} ms  ${formatCpu(deviceSignIn.serverCpuMsPerRequest)}  (target ≥ 2000/s)${deviceSignIn.unexpectedCount > 0 ? `; ${deviceSignIn.unexpectedCount} not 200` : ''}`,
    `GET /healthz (floor)                  ${median(floors.map((floor) => floor.perSecond))
      .toFixed(0)
      .padStart(
        7,
      )} req/s  ${formatCpu(floorCpu.length === 0 ? null : median(floorCpu))}  (median of ${floors.length} slices, ${Math.min(...floors.map((floor) => floor.perSecond)).toFixed(0)}–${Math.max(...floors.map((floor) => floor.perSecond)).toFixed(0)} req/s)`,
    `GET /v1/sessions/current/data         ${data.perSecond.toFixed(0).padStart(7)} req/s  ${data.p99}${data.cpu}  ${data.ratio} (target ≥ 0.5×)`,
    `POST /v1/tickets/redeem               ${redemption.perSecond.toFixed(0).padStart(7)} req/s  ${redemption.p99}${redemption.cpu}  ${redemption.ratio} (target ≥ 0.5×); ${sum(redemptionPairs.map((pair) => pair.redeemed))} of ${sum(redemptionPairs.map((pair) => pair.issued))} redeemed, ${sum(redemptionPairs.map((pair) => pair.non2xx))} other answers`,
    `POST /v1/tickets (issuing)            ${median(redemptionPairs.map((pair) => pair.issuedPerSecond))
      .toFixed(0)
      .padStart(7)} req/s`,
  ]
  if (dataUnexpected > 0) lines.push(`warning: ${dataUnexpected} session-data reads did not answer 200`)
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

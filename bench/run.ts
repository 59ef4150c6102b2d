/**
 * `npm run bench`: throughput and latency of the hot paths against a real server process, each
 * as a ratio to a bare Fastify server measured in the same run.
 *
 *   floor                          bench/floor-server.ts: same Fastify, same Node, `/hello` only
 *   /healthz                       Tessera's per-request pipeline with no work in the handler
 *   GET /v1/me (bearer, cookie)    the per-request authentication cost
 *   POST /v1/auth/login            full argon2id verification, as a ratio to cores ÷ hash time
 *   bearer /v1/me beside a 16-connection login flood: does hashing starve verified traffic?
 *   POST /v1/auth/refresh          chains of clients, each refreshing with the token it got
 *
 * The machine's speed drifts and other people use its CPU, so floor, /healthz, bearer and cookie
 * run in slices, interleaved (the order turns each slice), and the ratios are taken from the same
 * run; the load average is reported. Loads come from wrk when it is installed (Debian package
 * `wrk`), else from autocannon; 127.0.0.1 only, every run bounded in time.
 *
 * Options: `--json` prints JSON. Env: BENCH_SLICES (default 10), BENCH_SLICE_SECONDS (default 2),
 * BENCH_DURATION_SECONDS (default 8: login, flood and refresh), TESSERA_* reach the server (see
 * server-settings.ts). Exits 0 when a target is missed (it prints MISS) and 1 when the server
 * fails or answers with errors where none are expected.
 */
import { spawn } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { measureArgon2, measureArgon2MedianMs } from './argon2-timing.ts'
import { createBenchCredentials } from './credentials.ts'
import {
  mergeTallies,
  runLoad,
  summarizeLoad,
  type LoadOptions,
  type LoadRequest,
  type LoadTally,
  type LoadTarget,
} from './load.ts'
import { describeMachine } from './machine.ts'
import { readResidentMemory } from './memory.ts'
import { formatJsonReport, formatTextReport, type BenchReport } from './report.ts'
import { findFreePort, startServerProcess, type ServerProcess } from './server-process.ts'
import { readArgon2Parameters, readServerSettings } from './server-settings.ts'
import { evaluateScenarios, type Scenario } from './targets.ts'
import { findWrk, runWrk, type WrkChain } from './wrk.ts'

const readConnections = 32
const loginConnections = 8
const floodConnections = 16
// Below TESSERA_THROTTLE_REFRESH_THRESHOLD (30): a refresh in progress counts against its address.
const refreshChains = 16
const argon2Runs = 15
const usage =
  'usage: npm run bench [-- --json]   (env: BENCH_SLICES, BENCH_SLICE_SECONDS, BENCH_DURATION_SECONDS; TESSERA_* for the server)'

interface BenchOptions {
  isJson: boolean
  durationSeconds: number
  slices: number
  sliceSeconds: number
}

function readWholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name] ?? String(fallback)
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new TypeError(`${name} must be a whole number from 1 to ${max}, not "${raw}"`)
  return value
}

function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const unknown = argv.filter((argument) => argument !== '--json')
  if (unknown.length > 0) throw new TypeError(`unknown argument ${unknown.join(' ')}\n${usage}`)
  return {
    isJson: argv.includes('--json'),
    durationSeconds: readWholeNumber(env, 'BENCH_DURATION_SECONDS', 8, 60),
    slices: readWholeNumber(env, 'BENCH_SLICES', 10, 50),
    sliceSeconds: readWholeNumber(env, 'BENCH_SLICE_SECONDS', 2, 30),
  }
}

function logProgress(message: string): void {
  process.stderr.write(`bench: ${message}\n`)
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}

type Generator = (
  target: LoadTarget,
  request: LoadRequest,
  options: LoadOptions,
  chain?: WrkChain,
) => Promise<LoadTally>

function chooseGenerator(): { name: string; run: Generator } {
  const wrk = findWrk()
  if (wrk !== null)
    return {
      name: `wrk ${wrk}`,
      run: (target, request, options, chain) => runWrk(target, request, options, chain ?? null),
    }
  return {
    name: 'autocannon (install wrk for steadier figures)',
    run: (target, request, options, chain) => {
      if (chain !== undefined) throw new Error('refresh chains need wrk')
      return runLoad(target, request, options)
    },
  }
}

interface FloorServer extends LoadTarget {
  stop(): Promise<void>
}

async function startFloorServer(): Promise<FloorServer> {
  const port = await findFreePort()
  const entry = fileURLToPath(new URL('./floor-server.ts', import.meta.url))
  const child = spawn(process.execPath, [entry, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the floor server did not start within 20 s')), 20_000)
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('listening')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`the floor server exited with ${code}`)))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

/** Signs `count` clients in with tokens (argon2id each) and returns their refresh tokens. */
async function signInChains(baseUrl: string, username: string, password: string, count: number): Promise<string[]> {
  const tokens: string[] = []
  for (let index = 0; index < count; index += 1) {
    const response = await fetch(`${baseUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password, mode: 'token' }),
    })
    const body = (await response.json()) as { refresh_token?: unknown }
    if (response.status !== 200 || typeof body.refresh_token !== 'string')
      throw new Error(`login for a refresh chain answered ${response.status}`)
    tokens.push(body.refresh_token)
  }
  return tokens
}

async function runScenarios(
  server: ServerProcess,
  floor: FloorServer,
  generator: Generator,
  options: BenchOptions,
): Promise<Scenario[]> {
  const { durationSeconds, slices, sliceSeconds } = options
  const credentials = await createBenchCredentials(server.url)
  const bearerMe: LoadRequest = {
    method: 'GET',
    path: '/v1/me',
    headers: { authorization: `Bearer ${credentials.accessToken}` },
  }
  const cookieMe: LoadRequest = {
    method: 'GET',
    path: '/v1/me',
    headers: { cookie: `__Host-session=${credentials.sessionToken}` },
  }
  const login: LoadRequest = {
    method: 'POST',
    path: '/v1/auth/login',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: credentials.username, password: credentials.password }),
  }
  const scenarios: Scenario[] = []

  // Floor, /healthz, bearer and cookie in slices, each slice in a turned order, so a machine that
  // speeds up or slows down (or a neighbour that takes a core for a while) weighs on them alike.
  const reads = [
    {
      id: 'floor',
      label: 'bare Fastify /hello (floor)',
      target: floor as LoadTarget,
      request: { method: 'GET', path: '/hello' },
    },
    { id: 'healthz', label: '/healthz', target: server, request: { method: 'GET', path: '/healthz' } },
    { id: 'bearer', label: 'GET /v1/me bearer', target: server, request: bearerMe },
    { id: 'cookie', label: 'GET /v1/me cookie', target: server, request: cookieMe },
  ] as const
  const sliceOptions = (slice: number): LoadOptions => ({
    connections: readConnections,
    durationSeconds: sliceSeconds,
    warmupSeconds: slice === 0 ? 1 : 0,
  })
  const readTallies = new Map<string, LoadTally[]>()
  for (let slice = 0; slice < slices; slice += 1) {
    const order = [...reads.slice(slice % reads.length), ...reads.slice(0, slice % reads.length)]
    logProgress(`reads, slice ${slice + 1} of ${slices} (load average ${loadavg()[0]?.toFixed(2)})`)
    for (const read of order) {
      const tally = await generator(read.target, read.request as LoadRequest, sliceOptions(slice))
      readTallies.set(read.id, [...(readTallies.get(read.id) ?? []), tally])
      assertServerAlive(server)
    }
  }
  for (const read of reads) {
    scenarios.push({
      id: read.id,
      label: read.label,
      load: summarizeLoad(mergeTallies(readTallies.get(read.id) ?? []), sliceOptions(1)),
    })
  }

  logProgress('POST /v1/auth/login')
  const loginOptions: LoadOptions = { connections: loginConnections, durationSeconds, warmupSeconds: 1 }
  scenarios.push({
    id: 'login',
    label: 'POST /v1/auth/login',
    load: summarizeLoad(await generator(server, login, loginOptions), loginOptions),
  })
  assertServerAlive(server)
  // Logins the server had already accepted when the load stopped are still being hashed.
  await pause(1000)

  logProgress(`GET /v1/me bearer beside a ${floodConnections}-connection login flood`)
  const floodSlices = Math.max(2, Math.min(slices, Math.ceil(durationSeconds / sliceSeconds)))
  const floodOptions: LoadOptions = {
    connections: floodConnections,
    durationSeconds: floodSlices * (sliceSeconds + 1) + 2,
    warmupSeconds: 0,
    allowedStatuses: [503],
  }
  const flood = generator(server, login, floodOptions)
  await pause(1000)
  const underFlood: LoadTally[] = []
  for (let slice = 0; slice < floodSlices; slice += 1) {
    underFlood.push(
      await generator(server, bearerMe, {
        connections: readConnections,
        durationSeconds: sliceSeconds,
        warmupSeconds: 0,
      }),
    )
  }
  const floodTally = await flood
  assertServerAlive(server)
  // Both loads share the server at once: its CPU time is not either one's alone.
  const withoutServerCpu = (tally: LoadTally, loadOptions: LoadOptions) => ({
    ...summarizeLoad(tally, loadOptions),
    serverCpuMsPerRequest: null,
  })
  scenarios.push(
    {
      id: 'bearer_under_flood',
      label: 'GET /v1/me bearer, login flood',
      load: withoutServerCpu(mergeTallies(underFlood), sliceOptions(1)),
    },
    { id: 'login_flood', label: 'POST /v1/auth/login (the flood)', load: withoutServerCpu(floodTally, floodOptions) },
  )
  await pause(1000)

  if (findWrk() !== null) {
    logProgress(`POST /v1/auth/refresh, ${refreshChains} chains`)
    const refresh: LoadRequest = {
      method: 'POST',
      path: '/v1/auth/refresh',
      headers: { 'content-type': 'application/json' },
    }
    // A warm-up with chains of its own: a chain's tokens are used once. One token more than
    // chains each time: wrk spends the first on checking its script (see WrkChain).
    const chainTokens = refreshChains + 1
    const warmupChains = await signInChains(server.url, credentials.username, credentials.password, chainTokens)
    await generator(
      server,
      refresh,
      { connections: refreshChains, durationSeconds: 1, warmupSeconds: 0 },
      { refreshTokens: warmupChains },
    )
    const chains = await signInChains(server.url, credentials.username, credentials.password, chainTokens)
    const refreshOptions: LoadOptions = { connections: refreshChains, durationSeconds, warmupSeconds: 0 }
    const tally = await generator(server, refresh, refreshOptions, { refreshTokens: chains })
    scenarios.push({
      id: 'refresh',
      label: 'POST /v1/auth/refresh (chains)',
      load: summarizeLoad(tally, refreshOptions),
    })
    assertServerAlive(server)
  }
  return scenarios
}

function assertServerAlive(server: ServerProcess): void {
  const reason = server.exitedEarly()
  if (reason !== null) throw new Error(`the server exited during the benchmark (${reason})\n${server.output()}`)
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), process.env)
  const serverSettings = readServerSettings(process.env)
  const machine = describeMachine()
  const generator = chooseGenerator()
  logProgress(`timing argon2id (${argon2Runs} runs)`)
  const argon2 = await measureArgon2({
    runs: argon2Runs,
    parallelSeconds: 2,
    parameters: readArgon2Parameters(serverSettings),
  })

  logProgress('starting the servers')
  const floor = await startFloorServer()
  let server: ServerProcess
  try {
    server = await startServerProcess({
      entry: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
      settings: serverSettings,
    })
  } catch (error) {
    await floor.stop()
    throw error
  }
  const stopOnSignal = (signal: NodeJS.Signals) => {
    Promise.all([server.stop(), floor.stop()]).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.once('SIGINT', stopOnSignal)
  process.once('SIGTERM', stopOnSignal)

  const memoryAtStart = readResidentMemory(server.pid)
  let memoryAfterLoad = null
  let scenarios: Scenario[]
  try {
    scenarios = await runScenarios(server, floor, generator.run, options)
    memoryAfterLoad = readResidentMemory(server.pid)
  } finally {
    await Promise.all([server.stop(), floor.stop()])
  }

  logProgress('timing argon2id again')
  const argon2MedianAfterMs = await measureArgon2MedianMs(argon2.parameters, argon2Runs)
  const outcomes = evaluateScenarios(scenarios, argon2)
  const report: BenchReport = {
    machine,
    settings: {
      loadGenerator: generator.name,
      durationSeconds: options.durationSeconds,
      slices: options.slices,
      sliceSeconds: options.sliceSeconds,
      serverPid: server.pid,
      serverSettings,
    },
    loadAverageAtEnd1m: loadavg()[0] ?? 0,
    argon2,
    argon2MedianAfterMs,
    memory: { atStart: memoryAtStart, afterLoad: memoryAfterLoad },
    outcomes,
    hasServerErrors: outcomes.some((outcome) => outcome.load.unexpectedCount > 0),
    serverOutput: server.output(),
  }
  process.stdout.write(`${options.isJson ? formatJsonReport(report) : formatTextReport(report)}\n`)
  return report.hasServerErrors ? 1 : 0
}

main().then(
  (exitCode) => process.exit(exitCode),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)

/**
 * `npm run bench`: throughput and latency of the hot paths against a real server process.
 *
 *   /healthz                      the floor: what Fastify and the loopback do with no work
 *   GET /v1/me (bearer, cookie)   the per-request authentication cost, as a ratio to the floor
 *   POST /v1/auth/login           full argon2id verification, as a ratio to cores ÷ hash time
 *   bearer /v1/me beside a login flood, at a fixed rate: does hashing starve token checks?
 *
 * Options: `--json` prints the results as JSON; BENCH_DURATION_SECONDS (default 8) sets the
 * measured seconds per scenario; TESSERA_* variables reach the server (see server-settings.ts). Exits 0 when a target is missed (it prints MISS) and 1 when the
 * server fails or answers with errors where none are expected.
 */
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { measureArgon2, measureArgon2MedianMs } from './argon2-timing.ts'
import { createBenchCredentials } from './credentials.ts'
import {
  finishLoad,
  mergeTallies,
  runLoad,
  startLoad,
  summarizeLoad,
  type LoadOptions,
  type LoadRequest,
  type LoadSummary,
  type LoadTally,
} from './load.ts'
import { describeMachine } from './machine.ts'
import { formatJsonReport, formatTextReport, type BenchReport } from './report.ts'
import { startServerProcess, type ServerProcess } from './server-process.ts'
import { readArgon2Parameters, readServerSettings } from './server-settings.ts'
import { evaluateScenarios, type Scenario } from './targets.ts'

const readConnections = 32
const loginConnections = 8
const floodConnections = 32
const pacedConnections = 10
const pacedRatePerSecond = 1000
const argon2Runs = 15
const usage = 'usage: npm run bench [-- --json]   (env: BENCH_DURATION_SECONDS, default 8; TESSERA_* for the server)'

interface BenchOptions {
  isJson: boolean
  durationSeconds: number
  warmupSeconds: number
}

function readOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const unknown = argv.filter((argument) => argument !== '--json')
  if (unknown.length > 0) throw new TypeError(`unknown argument ${unknown.join(' ')}\n${usage}`)
  const rawDuration = env.BENCH_DURATION_SECONDS ?? '8'
  const durationSeconds = Number(rawDuration)
  if (!Number.isInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > 60) {
    throw new TypeError(`BENCH_DURATION_SECONDS must be a whole number from 1 to 60, not "${rawDuration}"`)
  }
  return {
    isJson: argv.includes('--json'),
    durationSeconds,
    warmupSeconds: Math.min(2, Math.max(1, Math.floor(durationSeconds / 4))),
  }
}

/** Two rounds when each can still last 2 s or more (autocannon samples once a second). */
function readRoundsFor(durationSeconds: number): number {
  return durationSeconds >= 4 ? 2 : 1
}

function logProgress(message: string): void {
  process.stderr.write(`bench: ${message}\n`)
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}

async function runScenarios(server: ServerProcess, options: BenchOptions): Promise<Scenario[]> {
  const { durationSeconds, warmupSeconds } = options
  const credentials = await createBenchCredentials(server.url)
  const bearerMe: LoadRequest = { method: 'GET', path: '/v1/me', headers: { authorization: `Bearer ${credentials.accessToken}` } }
  const cookieMe: LoadRequest = { method: 'GET', path: '/v1/me', headers: { cookie: `__Host-session=${credentials.sessionToken}` } }
  const login: LoadRequest = {
    method: 'POST',
    path: '/v1/auth/login',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: credentials.username, password: credentials.password }),
  }
  const saturating = (connections: number): LoadOptions => ({ connections, durationSeconds, warmupSeconds })
  const paced: LoadOptions = { ...saturating(pacedConnections), overallRate: pacedRatePerSecond }
  const scenarios: Scenario[] = []

  // The read scenarios are compared with each other, so they run in rounds, A B C then C B A:
  // a machine that speeds up or slows down during the run weighs on each of them alike.
  const reads = [
    { id: 'floor', label: '/healthz (floor)', request: { method: 'GET', path: '/healthz' } },
    { id: 'bearer', label: 'GET /v1/me bearer', request: bearerMe },
    { id: 'cookie', label: 'GET /v1/me cookie', request: cookieMe },
  ] as const
  const rounds = readRoundsFor(durationSeconds)
  const roundOptions = (round: number): LoadOptions => ({
    connections: readConnections,
    durationSeconds: Math.ceil(durationSeconds / rounds),
    warmupSeconds: round === 0 ? warmupSeconds : 1,
  })
  const readTallies = new Map<string, LoadTally[]>()
  for (let round = 0; round < rounds; round += 1) {
    for (const read of round % 2 === 0 ? reads : reads.toReversed()) {
      logProgress(`${read.label}, round ${round + 1} of ${rounds}`)
      const tally = await runLoad(server, read.request, roundOptions(round))
      readTallies.set(read.id, [...(readTallies.get(read.id) ?? []), tally])
      assertServerAlive(server)
    }
  }
  for (const read of reads) {
    const load = summarizeLoad(mergeTallies(readTallies.get(read.id) ?? []), roundOptions(0))
    scenarios.push({ id: read.id, label: read.label, load })
  }

  async function measure(id: Scenario['id'], label: string, request: LoadRequest, loadOptions: LoadOptions) {
    logProgress(label)
    scenarios.push({ id, label, load: summarizeLoad(await runLoad(server, request, loadOptions), loadOptions) })
    assertServerAlive(server)
  }
  await measure('bearer_paced', 'GET /v1/me bearer, fixed rate', bearerMe, paced)
  await measure('login', 'POST /v1/auth/login', login, saturating(loginConnections))
  // Logins the server had already accepted when the load stopped are still being hashed.
  await pause(1000)

  logProgress(`GET /v1/me bearer at ${pacedRatePerSecond}/s beside a login flood`)
  const floodOptions: LoadOptions = {
    connections: floodConnections,
    durationSeconds: warmupSeconds + durationSeconds + 5,
    warmupSeconds: 0,
    allowedStatuses: [503],
  }
  const flood = startLoad(server, login, floodOptions)
  let underFlood: LoadTally
  try {
    underFlood = await runLoad(server, bearerMe, paced)
  } finally {
    flood.instance.stop()
  }
  const floodTally = await finishLoad(flood)
  assertServerAlive(server)
  // Both loads share the server at once: its CPU time is not either one's alone.
  const withoutServerCpu = (load: LoadSummary): LoadSummary => ({ ...load, serverCpuMsPerRequest: null })
  scenarios.push(
    { id: 'bearer_under_flood', label: 'GET /v1/me bearer, login flood', load: withoutServerCpu(summarizeLoad(underFlood, paced)) },
    { id: 'login_flood', label: 'POST /v1/auth/login (the flood)', load: withoutServerCpu(summarizeLoad(floodTally, floodOptions)) },
  )
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
  logProgress(`timing argon2id (${argon2Runs} runs)`)
  const argon2 = await measureArgon2({
    runs: argon2Runs,
    parallelSeconds: 2,
    parameters: readArgon2Parameters(serverSettings),
  })

  logProgress('starting the server')
  const server = await startServerProcess({
    entry: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
    settings: serverSettings,
  })
  const stopOnSignal = (signal: NodeJS.Signals) => {
    server.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.once('SIGINT', stopOnSignal)
  process.once('SIGTERM', stopOnSignal)

  let scenarios: Scenario[]
  try {
    scenarios = await runScenarios(server, options)
  } finally {
    await server.stop()
  }

  logProgress('timing argon2id again')
  const argon2MedianAfterMs = await measureArgon2MedianMs(argon2.parameters, argon2Runs)
  const outcomes = evaluateScenarios(scenarios, argon2)
  const report: BenchReport = {
    machine,
    settings: {
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      readRounds: readRoundsFor(options.durationSeconds),
      serverPid: server.pid,
      serverSettings,
    },
    loadAverageAtEnd1m: loadavg()[0] ?? 0,
    argon2,
    argon2MedianAfterMs,
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

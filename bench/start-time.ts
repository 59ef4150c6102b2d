/**
 * Time from exec to the first `/healthz` 200, on a fresh data directory (the first start creates
 * the database and a signing key) and again on the same one (a restart), five times each; the
 * median wall time is printed with the CPU time the process used (steadier on a busy machine). Usage: node bench/start-time.ts [runs=5]
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findFreePort } from './server-process.ts'
import { allocatorSettings } from '../bin/allocator-settings.js'
import { median } from './statistics.ts'

const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const runs = Number(process.argv[2] ?? '5')
const compileCache =
  process.env.NODE_COMPILE_CACHE ?? fileURLToPath(new URL('../node_modules/.cache/node-compile', import.meta.url))

/** CPU seconds (user + system, all threads) the process has used so far; 0 off Linux. */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}

interface StartTiming {
  wallMs: number
  /** Steadier than wall time on a busy machine: what the start itself costs. */
  cpuMs: number
}

async function timeStart(dataDir: string): Promise<StartTiming> {
  const port = await findFreePort()
  const started = performance.now()
  const child = spawn(process.execPath, [entry], {
    // As `npm start` runs it: its allocator settings, and Node's compile cache (the first run of all fills it).
    env: {
      ...process.env,
      ...allocatorSettings(process.env),
      NODE_COMPILE_CACHE: compileCache,
      TESSERA_HOST: '127.0.0.1',
      TESSERA_PORT: String(port),
      TESSERA_DATA_DIR: dataDir,
      TESSERA_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    const deadline = started + 30_000
    while (performance.now() < deadline) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) })
        if (response.status === 200)
          return { wallMs: performance.now() - started, cpuMs: cpuSecondsOf(child.pid) * 1000 }
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    throw new Error('no /healthz 200 within 30 s')
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

const fresh: StartTiming[] = []
const restart: StartTiming[] = []
for (let run = 0; run < runs; run += 1) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-start-'))
  try {
    fresh.push(await timeStart(dataDir))
    restart.push(await timeStart(dataDir))
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}
const seconds = (values: number[]) =>
  `median ${(median(values) / 1000).toFixed(3)} s (${values.map((value) => (value / 1000).toFixed(2)).join(', ')})`
const format = (timings: StartTiming[]) =>
  `wall ${seconds(timings.map((timing) => timing.wallMs))}; CPU ${seconds(timings.map((timing) => timing.cpuMs))}`
process.stdout.write(
  `exec to /healthz 200, load average ${loadavg()[0]?.toFixed(2)}:\n  fresh data directory: ${format(fresh)}\n  restart:              ${format(restart)}\n`,
)

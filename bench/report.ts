/** Renders the results as a plain-text table, or as JSON for `--json`. */
import type { Argon2Timing } from './argon2-timing.ts'
import type { MachineInfo } from './machine.ts'
import { formatResidentMemory, type ResidentMemory } from './memory.ts'
import type { ScenarioOutcome } from './targets.ts'

export interface BenchReport {
  machine: MachineInfo
  settings: {
    loadGenerator: string
    durationSeconds: number
    /** Floor, /healthz, bearer and cookie run in this many interleaved slices of `sliceSeconds`. */
    slices: number
    sliceSeconds: number
    serverPid: number
    /** TESSERA_* settings passed to the server on top of its defaults. */
    serverSettings: Record<string, string>
  }
  /** 1-minute load average when the run ended; well above the bench's own ~2 means a noisy machine. */
  loadAverageAtEnd1m: number
  argon2: Argon2Timing
  /** The same median taken after the run; far from `argon2.medianMs` means the CPU's speed drifted. */
  argon2MedianAfterMs: number
  /** The server's resident memory after start and after every load (RssAnon / RssFile). */
  memory: { atStart: ResidentMemory | null; afterLoad: ResidentMemory | null }
  outcomes: ScenarioOutcome[]
  /** True when the server answered with an error where none was expected. */
  hasServerErrors: boolean
  serverOutput: string
}

const headings = [
  'scenario',
  'conns',
  'req/s',
  'p50 ms',
  'p99 ms',
  'ratio',
  '/healthz',
  'target',
  'result',
  'server CPU/req',
  'other CPU',
] as const
/** Cores' worth of CPU taken by other processes past which a figure is not to be trusted. */
const noisyOtherCpuCores = 0.15
/** Change of the argon2id median between start and end past which the CPU's speed drifted. */
const driftedSpeedFraction = 0.1

function formatRate(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1)
}

function formatRatio(outcome: ScenarioOutcome): string {
  if (outcome.ratio === null) return '-'
  const basis = outcome.ratioBasis === 'hash_limit' ? 'hash limit' : 'floor'
  return `${outcome.ratio.toFixed(2)}x ${basis}`
}

function formatConnections(outcome: ScenarioOutcome): string {
  const { connections, overallRate } = outcome.load
  return overallRate === null ? String(connections) : `${connections} @${overallRate}/s`
}

function formatServerCpu(milliseconds: number | null): string {
  if (milliseconds === null) return '-'
  return milliseconds < 1 ? `${(milliseconds * 1000).toFixed(0)} us` : `${milliseconds.toFixed(1)} ms`
}

function formatOtherCpu(cores: number | null): string {
  return cores === null ? 'n/a' : cores.toFixed(2)
}

function formatServerSettings(serverSettings: Record<string, string>): string {
  const entries = Object.entries(serverSettings)
  return entries.length === 0 ? 'defaults' : entries.map(([name, value]) => `${name}=${value}`).join(' ')
}

function renderTable(rows: readonly (readonly string[])[]): string {
  const widths = headings.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)))
  const renderRow = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        (column >= 1 && column <= 4) || column === 9
          ? cell.padStart(widths[column] ?? 0)
          : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd()
  const rule = widths.map((width) => '-'.repeat(width)).join('  ')
  const [head, ...body] = rows
  return [renderRow(head ?? []), rule, ...body.map(renderRow)].join('\n')
}

function describeStatuses(outcome: ScenarioOutcome): string | null {
  const { load } = outcome
  const other = Object.entries(load.statusCounts).filter(([status]) => !status.startsWith('2'))
  if (other.length === 0 && load.errors === 0) return null
  const parts = other.map(([status, count]) => `${count} x ${status}`)
  if (load.errors > 0) parts.push(`${load.errors} errors (${load.timeouts} timeouts)`)
  const kind = load.unexpectedCount > 0 ? 'UNEXPECTED' : 'shed under load'
  return `  ${outcome.label}: ${parts.join(', ')} [${kind}]`
}

export function formatTextReport(report: BenchReport): string {
  const { machine, argon2, settings } = report
  const lines = [
    `Tessera benchmark: node ${machine.nodeVersion}, ${machine.platform}/${machine.arch}, ` +
      `${machine.cores} cores (${machine.cpuModel}), ${machine.totalMemoryGiB} GiB, ` +
      `UV_THREADPOOL_SIZE ${machine.uvThreadpoolSize}, load average ${machine.loadAverage1m.toFixed(2)} before, ` +
      `${report.loadAverageAtEnd1m.toFixed(2)} after`,
    `Floor, /healthz, bearer and cookie: ${settings.slices} interleaved slices of ${settings.sliceSeconds} s each; ` +
      `login, flood and refresh: ${settings.durationSeconds} s; ${settings.loadGenerator} (1 thread) on 127.0.0.1, ` +
      'each server in its own process. Floor: bench/floor-server.ts (bare Fastify, same Node).',
    `Server settings: ${formatServerSettings(settings.serverSettings)}`,
    `argon2id m=${argon2.parameters.memoryKiB} KiB, t=${argon2.parameters.passes}, p=${argon2.parameters.parallelism}: ` +
      `median ${argon2.medianMs.toFixed(1)} ms (min ${argon2.minMs.toFixed(1)}, max ${argon2.maxMs.toFixed(1)}, ` +
      `${argon2.runs} runs) -> hash-bound limit ${argon2.cores} / ${(argon2.medianMs / 1000).toFixed(4)} s = ` +
      `${argon2.hashBoundLoginsPerSecond.toFixed(1)} logins/s`,
    `argon2id with ${argon2.cores} hashes at a time, back to back: ${argon2.parallelHashesPerSecond.toFixed(1)} hashes/s ` +
      `(${(argon2.parallelHashesPerSecond / argon2.hashBoundLoginsPerSecond).toFixed(2)}x the limit); ` +
      `median after the run: ${report.argon2MedianAfterMs.toFixed(1)} ms`,
    '',
  ]
  const rows = [
    [...headings],
    ...report.outcomes.map((outcome) => [
      outcome.label,
      formatConnections(outcome),
      formatRate(outcome.load.requestsPerSecond),
      outcome.load.latencyP50Ms.toFixed(2),
      outcome.load.latencyP99Ms.toFixed(2),
      formatRatio(outcome),
      outcome.healthzRatio === null ? '-' : `${outcome.healthzRatio.toFixed(2)}x`,
      outcome.target,
      outcome.verdict === 'INFO' ? '' : outcome.verdict,
      formatServerCpu(outcome.load.serverCpuMsPerRequest),
      formatOtherCpu(outcome.load.otherCpuCores),
    ]),
  ]
  lines.push(renderTable(rows))
  lines.push(
    `Server memory after start: ${formatResidentMemory(report.memory.atStart)}`,
    `Server memory after the loads: ${formatResidentMemory(report.memory.afterLoad)}`,
  )
  lines.push(
    "ratio: req/s (2xx only) over the floor's, or over the hash-bound limit; /healthz: over Tessera's own /healthz. server CPU/req: CPU time of all",
    "server threads per answer (steadier than req/s). other CPU: cores' worth used by other processes meanwhile.",
  )
  const noisy = report.outcomes.filter((outcome) => (outcome.load.otherCpuCores ?? 0) > noisyOtherCpuCores)
  if (noisy.length > 0) {
    lines.push(
      '',
      `Warning: other processes used more than ${noisyOtherCpuCores} cores during ` +
        `${noisy.map((outcome) => outcome.label).join('; ')}. Those figures are skewed; run again on a quiet machine.`,
    )
  }
  const drift = report.argon2MedianAfterMs / argon2.medianMs - 1
  if (Math.abs(drift) > driftedSpeedFraction) {
    lines.push(
      '',
      `Warning: argon2id took ${report.argon2MedianAfterMs.toFixed(1)} ms after the run against ` +
        `${argon2.medianMs.toFixed(1)} ms before (${drift > 0 ? '+' : ''}${(drift * 100).toFixed(0)}%): the CPU's speed ` +
        'changed during the run (a busy host, on a virtual machine). The ratios are unreliable; run again.',
    )
  }
  const statusLines = report.outcomes.map(describeStatuses).filter((line) => line !== null)
  if (statusLines.length > 0) lines.push('', 'Non-2xx answers and errors:', ...statusLines)
  const misses = report.outcomes.filter((outcome) => outcome.verdict === 'MISS').length
  lines.push(
    '',
    `${misses === 0 ? 'All targets met' : `${misses} target(s) missed`}` +
      (report.hasServerErrors ? '; the server answered with unexpected errors (exit 1).' : '.'),
  )
  const serverLines = report.serverOutput
    .trimEnd()
    .split('\n')
    .filter((line) => line !== '')
  if (serverLines.length > 0) {
    lines.push(
      '',
      `Server log (warn and above, last ${Math.min(serverLines.length, 40)} lines):`,
      ...serverLines.slice(-40),
    )
  }
  return lines.join('\n')
}

export function formatJsonReport(report: BenchReport): string {
  return JSON.stringify(report, null, 2)
}

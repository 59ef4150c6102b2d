/**
 * Autocannon runs against the server, reduced to the figures the report needs. Latencies are
 * recorded here in microseconds from autocannon's per-response event: its own histogram holds
 * whole milliseconds, which turns every fast answer into "0 ms".
 */
import autocannon, { type AutocannonInstance, type AutocannonOptions } from 'autocannon'
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks'
import { measureCpuUsage, takeCpuSnapshot, type CpuSnapshot, type CpuUsage } from './cpu-usage.ts'

/** The server under test: where to send requests, and which process the CPU figures are about. */
export interface LoadTarget {
  url: string
  pid: number
}

export interface LoadRequest {
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  body?: string
}

export interface LoadOptions {
  connections: number
  durationSeconds: number
  /** Run first and thrown away: fills caches, JIT and connection pools. */
  warmupSeconds: number
  /** Fixed total rate in requests per second; omitted means as fast as the server answers. */
  overallRate?: number
  /** Non-2xx statuses that are a legitimate answer under this load (e.g. 503 under a flood). */
  allowedStatuses?: readonly number[]
}

/** What one or more runs of the same load add up to. */
export interface LoadTally {
  durationSeconds: number
  successCount: number
  statusCounts: Record<string, number>
  errors: number
  timeouts: number
  latenciesMicroseconds: RecordableHistogram
  /** Null off Linux. */
  cpu: CpuUsage | null
}

export interface LoadRun {
  instance: AutocannonInstance
  target: LoadTarget
  latenciesMicroseconds: RecordableHistogram
  cpuAtStart: CpuSnapshot | null
}

export interface LoadSummary {
  connections: number
  durationSeconds: number
  overallRate: number | null
  /** 2xx answers per second: a shed or failed request is not throughput. */
  requestsPerSecond: number
  /** Answers of any status. */
  completed: number
  latencyP50Ms: number
  latencyP99Ms: number
  latencyMaxMs: number
  statusCounts: Record<string, number>
  /** Allowed non-2xx answers (see `allowedStatuses`). */
  shedCount: number
  /** Non-2xx answers that are not allowed, plus connection errors and timeouts. */
  unexpectedCount: number
  errors: number
  timeouts: number
  /** Server CPU time (all its threads) per answer; null off Linux. */
  serverCpuMsPerRequest: number | null
  /** Cores' worth of CPU other processes used during the measured run; null off Linux. */
  otherCpuCores: number | null
}

/** Starts a run; its instance can be stopped early. */
export function startLoad(target: LoadTarget, request: LoadRequest, options: LoadOptions): LoadRun {
  const autocannonOptions: AutocannonOptions = {
    url: `${target.url}${request.path}`,
    method: request.method,
    headers: request.headers ?? {},
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 10,
  }
  if (request.body !== undefined) autocannonOptions.body = request.body
  if (options.warmupSeconds > 0) {
    autocannonOptions.warmup = { connections: options.connections, duration: options.warmupSeconds }
  }
  if (options.overallRate !== undefined) {
    autocannonOptions.overallRate = options.overallRate
    // autocannon would "correct" for coordinated omission with an expected interval of
    // ceil(1 / per-connection rate) = 1 ms, inventing samples; its rate limiter sends each
    // connection's share in a burst at the top of every second, so the raw latencies are the truth.
    autocannonOptions.ignoreCoordinatedOmission = true
  }
  const instance = autocannon(autocannonOptions)
  const run: LoadRun = { instance, target, latenciesMicroseconds: createHistogram(), cpuAtStart: null }
  instance.on('start', () => {
    run.cpuAtStart = takeCpuSnapshot(target.pid)
  })
  instance.on('response', (_client, _statusCode, _responseBytes, responseTimeMs) => {
    run.latenciesMicroseconds.record(Math.max(1, Math.round(responseTimeMs * 1000)))
  })
  return run
}

export async function finishLoad(run: LoadRun): Promise<LoadTally> {
  const result = await run.instance
  const statusCounts: Record<string, number> = {}
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) statusCounts[status] = count
  return {
    durationSeconds: result.duration,
    successCount: result['2xx'],
    statusCounts,
    errors: result.errors,
    timeouts: result.timeouts,
    latenciesMicroseconds: run.latenciesMicroseconds,
    cpu: measureCpuUsage(run.cpuAtStart, takeCpuSnapshot(run.target.pid)),
  }
}

export function runLoad(target: LoadTarget, request: LoadRequest, options: LoadOptions): Promise<LoadTally> {
  return finishLoad(startLoad(target, request, options))
}

export function mergeTallies(tallies: readonly LoadTally[]): LoadTally {
  const statusCounts: Record<string, number> = {}
  const latenciesMicroseconds = createHistogram()
  let cpu: CpuUsage | null = { seconds: 0, serverCpuSeconds: 0, otherCpuSeconds: 0 }
  for (const tally of tallies) {
    for (const [status, count] of Object.entries(tally.statusCounts))
      statusCounts[status] = (statusCounts[status] ?? 0) + count
    latenciesMicroseconds.add(tally.latenciesMicroseconds)
    cpu =
      cpu === null || tally.cpu === null
        ? null
        : {
            seconds: cpu.seconds + tally.cpu.seconds,
            serverCpuSeconds: cpu.serverCpuSeconds + tally.cpu.serverCpuSeconds,
            otherCpuSeconds: cpu.otherCpuSeconds + tally.cpu.otherCpuSeconds,
          }
  }
  const sum = (read: (tally: LoadTally) => number) => tallies.reduce((total, tally) => total + read(tally), 0)
  return {
    durationSeconds: sum((tally) => tally.durationSeconds),
    successCount: sum((tally) => tally.successCount),
    statusCounts,
    errors: sum((tally) => tally.errors),
    timeouts: sum((tally) => tally.timeouts),
    latenciesMicroseconds,
    cpu,
  }
}

function toMilliseconds(microseconds: number): number {
  return Math.round(microseconds / 10) / 100
}

export function summarizeLoad(tally: LoadTally, options: LoadOptions): LoadSummary {
  const allowed = new Set(options.allowedStatuses ?? [])
  let completed = 0
  let shedCount = 0
  let unexpectedStatusCount = 0
  for (const [status, count] of Object.entries(tally.statusCounts)) {
    completed += count
    const code = Number(status)
    if (code >= 200 && code < 300) continue
    if (allowed.has(code)) shedCount += count
    else unexpectedStatusCount += count
  }
  const { latenciesMicroseconds: latencies, cpu } = tally
  return {
    connections: options.connections,
    durationSeconds: tally.durationSeconds,
    overallRate: options.overallRate ?? null,
    requestsPerSecond: tally.durationSeconds > 0 ? tally.successCount / tally.durationSeconds : 0,
    completed,
    latencyP50Ms: toMilliseconds(latencies.percentile(50)),
    latencyP99Ms: toMilliseconds(latencies.percentile(99)),
    latencyMaxMs: toMilliseconds(latencies.max),
    statusCounts: tally.statusCounts,
    shedCount,
    // Timeouts are counted in `errors` too.
    unexpectedCount: unexpectedStatusCount + tally.errors,
    errors: tally.errors,
    timeouts: tally.timeouts,
    serverCpuMsPerRequest: cpu === null || completed === 0 ? null : (cpu.serverCpuSeconds * 1000) / completed,
    otherCpuCores: cpu === null || cpu.seconds === 0 ? null : cpu.otherCpuSeconds / cpu.seconds,
  }
}

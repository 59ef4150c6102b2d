/**
 * Runs a load with wrk (the Debian package), when it is installed: a C load generator costs the
 * 2-core machine far less CPU than autocannon, so more of it is left to the server measured.
 * The figures come back as a LoadTally, like autocannon's, so the report treats both alike.
 *
 * A Lua script sets the request, counts answers by status in each thread (`done` runs in a state
 * of its own, so it reads the counts through `thread:get`), and prints the latency percentiles
 * (in microseconds) at the end; the percentiles are replayed into a histogram so tallies of
 * several slices merge. `chain` makes every connection's next request carry the refresh token
 * its previous answer returned (chains of clients refreshing).
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHistogram } from 'node:perf_hooks'
import { measureCpuUsage, takeCpuSnapshot } from './cpu-usage.ts'
import type { LoadOptions, LoadRequest, LoadTally, LoadTarget } from './load.ts'

/** wrk's version line, or null when it is not installed. */
export function findWrk(): string | null {
  try {
    const output = execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    return /wrk\s+(\S+)/.exec(output)?.[1] ?? 'wrk'
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}`
    // `wrk -v` prints its version and exits 1.
    return /wrk\s+(\S+)/.exec(output)?.[1] ?? null
  }
}

export interface WrkChain {
  /**
   * One refresh token per chain, plus one: each connection takes one and carries its successor
   * on, and wrk calls `request()` once more before the run, to check the script's request
   * (script_verify_request), which takes the first token and never sends it. Without the spare
   * token the last connection finds none left and asks with a GET (405) for the whole run.
   */
  refreshTokens: readonly string[]
}

/**
 * Request bodies each sent once, in order (one-time tickets): the warm-up run sends its own, so
 * the measured run never repeats one. A run that uses them all sends a GET instead (a 405 the
 * report counts as unexpected), so running short shows in the figures.
 */
export interface WrkOneUseBodies {
  warmupBodies: readonly string[]
  bodies: readonly string[]
}

export type WrkFeed = WrkChain | WrkOneUseBodies

const percentiles = [...Array.from({ length: 99 }, (_, index) => index + 1), 99.5, 99.9, 99.99, 100]

function luaString(value: string): string {
  return JSON.stringify(value)
}

/** A Lua list too long for one function's constants (LuaJIT allows 65,536), built in chunks. */
function luaList(name: string, values: readonly string[]): string {
  const chunkLength = 10_000
  const chunks: string[] = []
  for (let start = 0; start < values.length; start += chunkLength) {
    const items = values
      .slice(start, start + chunkLength)
      .map(luaString)
      .join(', ')
    chunks.push(`for _, value in ipairs((function() return { ${items} } end)()) do table.insert(${name}, value) end`)
  }
  return `local ${name} = {}\n${chunks.join('\n')}`
}

function oneUsePart(bodies: readonly string[]): string {
  return `
${luaList('bodies', bodies)}
local used = 0
request = function()
  used = used + 1
  local body = bodies[used]
  if body == nil then return wrk.format("GET") end
  return wrk.format(nil, nil, nil, body)
end
`
}

function buildScript(request: LoadRequest, chain: WrkChain | null, oneUse: readonly string[] | null = null): string {
  const headers = Object.entries(request.headers ?? {})
    .map(([name, value]) => `wrk.headers[${luaString(name)}] = ${luaString(value)}`)
    .join('\n')
  const chainPart =
    chain === null
      ? ''
      : `
local tokens = { ${chain.refreshTokens.map(luaString).join(', ')} }
local used = 0
local pending = {}
request = function()
  local token = table.remove(pending)
  if token == nil then
    -- Each starting token is used once: using one twice would be a reuse, and end its family.
    used = used + 1
    token = tokens[used]
  end
  -- A chain whose refresh failed has no token left: it asks for something that is no refresh
  -- (a 405 the report counts as unexpected), rather than failing refreshes into the throttle.
  if token == nil then return wrk.format("GET") end
  return wrk.format(nil, nil, nil, '{"refresh_token":"' .. token .. '"}')
end
local chain_response = function(body)
  local token = string.match(body, '"refresh_token":"([^"]+)"')
  if token then table.insert(pending, token) end
end
`
  return `
wrk.method = ${luaString(request.method)}
${request.body !== undefined ? `wrk.body = ${luaString(request.body)}` : ''}
${headers}
statuses = {}
local threads = {}
setup = function(thread) table.insert(threads, thread) end
${chainPart}
${oneUse === null ? '' : oneUsePart(oneUse)}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  ${chain === null ? '' : 'if status == 200 then chain_response(body) end'}
end
done = function(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do totals[status] = (totals[status] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(totals) do table.insert(parts, '"' .. status .. '":' .. count) end
  local points = {}
  for _, p in ipairs({ ${percentiles.join(', ')} }) do table.insert(points, latency:percentile(p)) end
  io.write('WRK-RESULT {"duration_us":' .. summary.duration .. ',"requests":' .. summary.requests ..
    ',"errors":' .. (summary.errors.connect + summary.errors.read + summary.errors.write) ..
    ',"timeouts":' .. summary.errors.timeout .. ',"statuses":{' .. table.concat(parts, ',') .. '}' ..
    ',"percentiles":[' .. table.concat(points, ',') .. ']}\\n')
end
`
}

interface WrkResult {
  duration_us: number
  requests: number
  errors: number
  timeouts: number
  statuses: Record<string, number>
  percentiles: number[]
}

function runWrkProcess(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else reject(new Error(`wrk exited with ${code}: ${output}`))
    })
  })
}

/** One run of wrk (1 thread; the server is what is measured); warm-up is a run thrown away. */
export async function runWrk(
  target: LoadTarget,
  request: LoadRequest,
  options: LoadOptions,
  feed: WrkFeed | null = null,
): Promise<LoadTally> {
  const directory = mkdtempSync(join(tmpdir(), 'tessera-wrk-'))
  try {
    const chain = feed !== null && 'refreshTokens' in feed ? feed : null
    const oneUse = feed !== null && 'bodies' in feed ? feed : null
    const script = join(directory, 'load.lua')
    const warmupScript = join(directory, 'warmup.lua')
    writeFileSync(script, buildScript(request, chain, oneUse?.bodies ?? null))
    writeFileSync(warmupScript, buildScript(request, chain, oneUse?.warmupBodies ?? null))
    const url = `${target.url}${request.path}`
    const argsFor = (seconds: number, scriptFile = script) => [
      '-t1',
      `-c${options.connections}`,
      `-d${seconds}s`,
      '--timeout',
      '10s',
      '-s',
      scriptFile,
      url,
    ]
    if (options.warmupSeconds > 0)
      await runWrkProcess(argsFor(options.warmupSeconds, warmupScript), (options.warmupSeconds + 20) * 1000)
    const cpuAtStart = takeCpuSnapshot(target.pid)
    const output = await runWrkProcess(argsFor(options.durationSeconds), (options.durationSeconds + 20) * 1000)
    const cpu = measureCpuUsage(cpuAtStart, takeCpuSnapshot(target.pid))
    const line = /WRK-RESULT (.+)/.exec(output)?.[1]
    if (line === undefined) throw new Error(`wrk printed no result: ${output}`)
    const result = JSON.parse(line) as WrkResult
    const latenciesMicroseconds = createHistogram()
    // Replays the distribution: each percentile stands for its share of the answers.
    const samples = Math.min(result.requests, 20_000)
    for (let index = 0; index < samples; index += 1) {
      const rank = ((index + 0.5) / samples) * 100
      const point = percentiles.findIndex((percentile) => percentile >= rank)
      latenciesMicroseconds.record(Math.max(1, Math.round(result.percentiles[point] ?? 1)))
    }
    const successCount = Object.entries(result.statuses)
      .filter(([status]) => status.startsWith('2'))
      .reduce((total, [, count]) => total + count, 0)
    return {
      durationSeconds: result.duration_us / 1e6,
      successCount,
      statusCounts: result.statuses,
      errors: result.errors + result.timeouts,
      timeouts: result.timeouts,
      latenciesMicroseconds,
      cpu,
    }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

/**
 * Event-loop stalls of the SQLite session housekeeping at a million sessions. node:sqlite runs
 * every statement on the event loop, so a statement that scans the sessions table holds every
 * request for as long as the scan takes. Measured with perf_hooks' monitorEventLoopDelay while
 * the stores do, as a node does:
 *
 *   1. the active-session gauge (`countActiveSessions`, read at every /metrics scrape);
 *   2. the minute sweep (`deleteExpiredSessions`) with one minute's worth of sessions expired;
 *   3. the sweep after ten minutes without one (ten times as many rows), then the gauge again.
 *
 * The sessions' last use is spread evenly over the idle timeout and a minute more; half of them
 * hold a refresh token, which a sweep deletes with its session. Target: no stall above 20 ms.
 * Two idle rows show what the machine alone does to the event loop: above the target, the
 * figures say more about the machine than about Tessera.
 *
 * Run: node bench/sqlite-stalls.ts [--sessions N]
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { openSqliteStores, sqliteFileName } from '../src/storage/sqlite/open.ts'
import { describeMachine } from './machine.ts'

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '1000000' } } })
const sessionCount = Number(values.sessions)
const idleTimeoutMs = 60 * 60 * 1000
const minuteMs = 60 * 1000
const targetStallMs = 20

const log = (line: string) => process.stdout.write(`${line}\n`)

/** Users and sessions written straight to the file, one transaction per batch. */
function seed(dataDir: string, now: number): void {
  const db = new DatabaseSync(join(dataDir, sqliteFileName))
  db.exec('PRAGMA foreign_keys = ON')
  // Seeding only: the rows need not survive a power cut, and a large page cache keeps the random
  // index inserts from going to the file one page at a time.
  db.exec('PRAGMA synchronous = OFF')
  db.exec('PRAGMA cache_size = -1048576')
  const insertUser = db.prepare(`INSERT INTO users (id, username, username_key, password_hash, created_at, updated_at)
    VALUES (?, ?, ?, '$argon2id$stand-in', ?, ?)`)
  const insertSession = db.prepare(`INSERT INTO sessions
    (id, token_hash, user_id, transport, created_at, last_seen_at, absolute_expires_at, ip, user_agent)
    VALUES (?, ?, ?, ?, ?, ?, ?, '203.0.113.7', 'bench')`)
  const insertRefreshToken = db.prepare(
    'INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES (?, ?, ?)',
  )
  const userIds = Array.from({ length: 1000 }, () => randomUUID())
  db.exec('BEGIN')
  userIds.forEach((id, index) => insertUser.run(id, `u${index}`, `u${index}`, now, now))
  db.exec('COMMIT')
  const spanMs = idleTimeoutMs + minuteMs
  const batch = 20_000
  for (let start = 0; start < sessionCount; start += batch) {
    db.exec('BEGIN')
    for (let index = start; index < Math.min(sessionCount, start + batch); index += 1) {
      const id = randomUUID()
      const isToken = index % 2 === 0
      const lastSeenAt = now - Math.floor((index / sessionCount) * spanMs)
      insertSession.run(
        id,
        isToken ? null : randomBytes(16).toString('hex'),
        userIds[index % userIds.length] ?? '',
        isToken ? 'token' : 'cookie',
        lastSeenAt,
        lastSeenAt,
        lastSeenAt + 24 * idleTimeoutMs,
      )
      if (isToken) insertRefreshToken.run(randomBytes(16).toString('hex'), id, lastSeenAt)
    }
    db.exec('COMMIT')
  }
  db.close()
  // Written without syncing: flush it now, or the first sync of the measured work would wait for
  // the whole file to reach the disk.
  const file = openSync(join(dataDir, sqliteFileName), 'r+')
  fsyncSync(file)
  closeSync(file)
}

interface Measured<T> {
  result: T
  tookMs: number
  longestStallMs: number
  p99StallMs: number
  /** The most CPU the event-loop thread spent between two turns of a 1 ms timer. */
  longestHeldMs: number
}

const threadCpuMs = () => {
  const { user, system } = process.threadCpuUsage()
  return (user + system) / 1000
}

/**
 * Runs `work`, returning how long it took and the event-loop stalls seen meanwhile. A stall is
 * wall time between turns of the loop; on a busy machine much of it is the thread waiting for a
 * core. `longestHeldMs` is the other view: the CPU time the loop's own thread used between two
 * turns of a 1 ms timer, which is what this process's work holds the loop for, whatever the
 * machine does (it also leaves out time spent waiting in a system call, such as a read from disk).
 */
async function measure<T>(work: () => Promise<T>): Promise<Measured<T>> {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  let longestHeldMs = 0
  let lastCpuMs = threadCpuMs()
  const ticker = setInterval(() => {
    const cpuMs = threadCpuMs()
    longestHeldMs = Math.max(longestHeldMs, cpuMs - lastCpuMs)
    lastCpuMs = cpuMs
  }, 1)
  // Let the histogram take its first samples before the work starts.
  await new Promise((resolve) => setTimeout(resolve, 20))
  const startedAt = performance.now()
  const result = await work()
  const tookMs = performance.now() - startedAt
  await new Promise((resolve) => setTimeout(resolve, 20))
  clearInterval(ticker)
  histogram.disable()
  // The histogram counts the delay beyond the 1 ms sampling interval, in nanoseconds.
  return {
    result,
    tookMs,
    longestStallMs: histogram.max / 1e6,
    p99StallMs: histogram.percentile(99) / 1e6,
    longestHeldMs,
  }
}

async function main(): Promise<void> {
  log(`machine: ${JSON.stringify(describeMachine())}`)
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-stalls-'))
  try {
    const now = Date.now()
    await openSqliteStores(dataDir, new Date(now)).close()
    const seedStartedAt = performance.now()
    seed(dataDir, now)
    log(`seeded ${sessionCount} sessions in ${((performance.now() - seedStartedAt) / 1000).toFixed(1)} s`)
    const openStartedAt = performance.now()
    // As a server opens it: checkpoints from a worker thread, off the event loop.
    const stores = openSqliteStores(dataDir, new Date(now), { checkpointsInBackground: true })
    log(`opened (migrations included) in ${(performance.now() - openStartedAt).toFixed(0)} ms`)
    const rows: Array<Measured<number> & { what: string }> = []
    // What the machine itself does to the event loop (other processes, the scheduler).
    const idle = async () => {
      await new Promise((resolve) => setTimeout(resolve, 2000))
      return 0
    }
    rows.push({ what: 'nothing (2 s idle, the floor)', ...(await measure(idle)) })
    const count = (at: number) => stores.sessions.countActiveSessions(new Date(at - idleTimeoutMs), new Date(at))
    const sweep = (at: number) => stores.sessions.deleteExpiredSessions(new Date(at - idleTimeoutMs), new Date(at))
    for (let round = 1; round <= 3; round += 1)
      rows.push({ what: `gauge (scrape ${round})`, ...(await measure(() => count(now))) })
    rows.push({ what: 'minute sweep (1 minute expired)', ...(await measure(() => sweep(now))) })
    rows.push({ what: 'gauge after the sweep', ...(await measure(() => count(now))) })
    const later = now + 10 * minuteMs
    rows.push({ what: 'sweep after 10 minutes without one', ...(await measure(() => sweep(later))) })
    rows.push({ what: 'gauge 10 minutes later', ...(await measure(() => count(later))) })
    rows.push({ what: 'nothing again (2 s idle)', ...(await measure(idle)) })
    await stores.close()

    log('')
    for (const row of rows) {
      const verdict = row.longestStallMs <= targetStallMs ? 'ok' : `above ${targetStallMs} ms`
      log(
        `${row.what.padEnd(38)} ${String(row.result).padStart(8)}  took ${row.tookMs.toFixed(1).padStart(7)} ms  ` +
          `stalls: p99 ${row.p99StallMs.toFixed(1).padStart(6)} ms, longest ${row.longestStallMs.toFixed(1).padStart(6)} ms, ` +
          `loop held ${row.longestHeldMs.toFixed(1).padStart(5)} ms  ${verdict}`,
      )
    }
    const work = rows.filter((row) => !row.what.startsWith('nothing'))
    const floor = Math.max(...rows.filter((row) => row.what.startsWith('nothing')).map((row) => row.longestStallMs))
    const longest = Math.max(...work.map((row) => row.longestStallMs))
    const held = Math.max(...work.map((row) => row.longestHeldMs))
    log(
      `\nlongest event-loop stall: ${longest.toFixed(1)} ms (target ≤ ${targetStallMs} ms); with nothing running: ${floor.toFixed(1)} ms`,
    )
    log(`longest the housekeeping held the loop (its thread's CPU between two turns): ${held.toFixed(1)} ms`)
    if (floor > targetStallMs)
      log('the machine itself stalls the event loop beyond the target: run this on a quiet machine')
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()

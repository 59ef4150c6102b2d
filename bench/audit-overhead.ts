/**
 * Login throughput with and without audit writing, over real HTTP on 127.0.0.1 with production
 * argon2id parameters and a SQLite file in WAL mode. "Without" swaps in an audit store that
 * drops events (the change still runs in its transaction), so the difference is the cost of
 * writing the events. Run: node bench/audit-overhead.ts [seconds per run, default 4]
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config/load.ts'
import { systemClock } from '../src/core/clock.ts'
import { toApplicationSettings } from '../src/config/application-settings.ts'
import { createApplication } from '../src/core/application/application.ts'
import { createOfflineContext } from '../src/core/request-context.ts'
import type { AuditStore } from '../src/core/audit/store.ts'
import type { Stores } from '../src/core/stores.ts'
import { buildApp } from '../src/http/app.ts'
import { openSqliteStores } from '../src/storage/sqlite/open.ts'

const seconds = Number(process.argv[2] ?? 4)
const password = 'correct horse battery staple'
const userCount = 50

function withoutAuditWrites(stores: Stores): Stores {
  const dropping: AuditStore = {
    ...stores.audit,
    appendEvents: async () => {},
  }
  return {
    ...stores,
    audit: dropping,
    // The change still runs in its transaction; only its events are dropped.
    runUnitOfWork: (work) => stores.runUnitOfWork((tx) => work({ ...tx, audit: dropping })),
  }
}

/** A server on a fresh SQLite file with `userCount` users, audited or not. */
async function startBenchServer(isAudited: boolean): Promise<{ url: string; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-audit-'))
  const config = loadConfig({ TESSERA_DATA_DIR: dataDir, TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'silent' })
  const opened = openSqliteStores(dataDir, systemClock.now())
  const stores = isAudited ? opened : withoutAuditWrites(opened)
  const application = await createApplication({
    stores,
    clock: systemClock,
    masterKey: randomBytes(32),
    settings: toApplicationSettings(config),
  })
  const actor = { actorUserId: null, context: createOfflineContext('startup') }
  for (let index = 0; index < userCount; index += 1) {
    await application.accountAdmin.createUser({ username: `bench${index}`, password, roles: ['user'] }, actor)
  }
  const app = await buildApp({ config, application, logger: false })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url,
    async close() {
      await app.close()
      await opened.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

interface LoginRun {
  perSecond: number
  ok: number
  other: number
  latencies: number[]
}

/** Closed-loop load: each worker sends its next login when the previous one is answered. */
async function runLogins(url: string, runSeconds: number): Promise<LoginRun> {
  const deadline = performance.now() + runSeconds * 1000
  const latencies: number[] = []
  let other = 0
  let next = 0
  const worker = async () => {
    while (performance.now() < deadline) {
      next = (next + 1) % userCount
      const startedAt = performance.now()
      const response = await fetch(`${url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `bench${next}`, password }),
      })
      await response.arrayBuffer()
      if (response.status === 200) latencies.push(performance.now() - startedAt)
      else other += 1
    }
  }
  await Promise.all(Array.from({ length: availableParallelism() * 2 }, worker))
  return { perSecond: latencies.length / runSeconds, ok: latencies.length, other, latencies }
}

function describeRuns(label: string, runs: LoginRun[]): string {
  const ok = runs.reduce((sum, run) => sum + run.ok, 0)
  const other = runs.reduce((sum, run) => sum + run.other, 0)
  const latencies = runs.flatMap((run) => run.latencies).sort((left, right) => left - right)
  const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0
  const perSecond = ok / (runs.length * seconds)
  return `${label.padEnd(22)} ${perSecond.toFixed(1).padStart(8)} logins/s  (${ok} ok, ${other} other, p99 ${p99.toFixed(0)} ms)\n`
}

// Short pairs back to back, each pair in the other order, judged on the median of the pairs'
// overheads: the speed of a shared virtual machine drifts by tens of percent within a minute,
// and only runs seconds apart see the same machine.
const pairCount = 5
const withoutServer = await startBenchServer(false)
const withServer = await startBenchServer(true)
const runs = { without: [] as LoginRun[], with: [] as LoginRun[] }
try {
  await runLogins(withoutServer.url, 1)
  await runLogins(withServer.url, 1)
  for (let pair = 0; pair < pairCount; pair += 1) {
    if (pair % 2 === 0) {
      runs.without.push(await runLogins(withoutServer.url, seconds))
      runs.with.push(await runLogins(withServer.url, seconds))
    } else {
      runs.with.push(await runLogins(withServer.url, seconds))
      runs.without.push(await runLogins(withoutServer.url, seconds))
    }
  }
} finally {
  await withoutServer.close()
  await withServer.close()
}
const overheads = runs.with
  .map((run, index) => ((runs.without[index]?.perSecond ?? 0) - run.perSecond) / (runs.without[index]?.perSecond ?? 1))
  .sort((left, right) => left - right)
const overhead = (overheads[Math.floor(overheads.length / 2)] ?? 0) * 100
process.stdout.write(describeRuns('login, audit off', runs.without))
process.stdout.write(describeRuns('login, audit on', runs.with))
process.stdout.write(
  `audit overhead: ${overhead.toFixed(1)}% of login throughput, median of ${pairCount} pairs of ${seconds} s runs ` +
    `(target < 15%): ${overhead < 15 ? 'PASS' : 'FAIL'}\n`,
)

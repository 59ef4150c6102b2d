/**
 * Login throughput with and without audit writing, over real HTTP on 127.0.0.1 with production
 * argon2id parameters and a SQLite file in WAL mode. "Without" swaps in an audit store that
 * drops events (the change still runs in its transaction), so the difference is the cost of
 * writing the events. Run: node bench/audit-overhead.ts [seconds per run, default 10]
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config/load.ts'
import { systemClock } from '../src/core/clock.ts'
import { createCore } from '../src/core/core.ts'
import { createOfflineContext } from '../src/core/request-context.ts'
import type { AuditStore } from '../src/core/audit/store.ts'
import type { Stores } from '../src/core/stores.ts'
import { buildApp } from '../src/http/app.ts'
import { openSqliteStores } from '../src/storage/sqlite/open.ts'

const seconds = Number(process.argv[2] ?? 10)
const password = 'correct horse battery staple'
const userCount = 50

function withoutAuditWrites(stores: Stores): Stores {
  const dropping: AuditStore = {
    ...stores.audit,
    appendEvents: async () => {},
    appendEventsWithChange: async (change) => change(),
  }
  return { ...stores, audit: dropping }
}

async function measure(label: string, isAudited: boolean): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-audit-'))
  const config = loadConfig({ TESSERA_DATA_DIR: dataDir, TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'silent' })
  const opened = openSqliteStores(dataDir, systemClock.now())
  const stores = isAudited ? opened : withoutAuditWrites(opened)
  const core = await createCore({
    stores,
    clock: systemClock,
    masterKey: randomBytes(32),
    settings: { tokens: config.tokens, sessions: config.sessions, passwords: config.passwords },
  })
  const actor = { actorUserId: null, context: createOfflineContext('startup') }
  for (let index = 0; index < userCount; index += 1) {
    await core.registration.createUser({ username: `bench${index}`, password, roles: ['user'] }, actor)
  }
  const app = await buildApp({ config, core, logger: false })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  // Closed-loop load: each worker sends its next login when the previous one is answered.
  const deadline = performance.now() + seconds * 1000
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
  await app.close()
  await opened.close()
  rmSync(dataDir, { recursive: true, force: true })
  const ok = latencies.length
  const perSecond = ok / seconds
  const p99 = latencies.sort((left, right) => left - right)[Math.floor(ok * 0.99)] ?? 0
  process.stdout.write(`${label.padEnd(22)} ${perSecond.toFixed(1).padStart(8)} logins/s  (${ok} ok, ${other} other, p99 ${p99.toFixed(0)} ms)\n`)
  return perSecond
}

const without = await measure('login, audit off', false)
const withAudit = await measure('login, audit on', true)
const overhead = ((without - withAudit) / without) * 100
process.stdout.write(`audit overhead: ${overhead.toFixed(1)}% of login throughput (target < 15%): ${overhead < 15 ? 'PASS' : 'FAIL'}\n`)

/**
 * Where a server's resident memory goes: anonymous (heaps) and file-backed (the mapped SQLite
 * database) apart, after start, after a login flood, with S live sessions (device sign-ins, each
 * opening a session that stays live) and after N refreshes (chains of clients). Needs wrk.
 * Usage: node bench/memory-growth.ts [refreshes=25000] [liveSessions=100000]
 * Env: TESSERA_* reach the server; MALLOC_ARENA_MAX and the like reach it too.
 */
import { fileURLToPath } from 'node:url'
import { createBenchCredentials } from './credentials.ts'
import { formatResidentMemory, readResidentMemory } from './memory.ts'
import { startServerProcess } from './server-process.ts'
import { readServerSettings } from './server-settings.ts'
import { findWrk, runWrk } from './wrk.ts'

const refreshTarget = Number(process.argv[2] ?? '25000')
const liveSessionTarget = Number(process.argv[3] ?? '100000')
if (findWrk() === null) throw new Error('this benchmark needs wrk')
const server = await startServerProcess({
  entry: fileURLToPath(new URL('../src/main.ts', import.meta.url)),
  settings: readServerSettings(process.env),
})
const report = (label: string) =>
  process.stdout.write(`${label.padEnd(34)} ${formatResidentMemory(readResidentMemory(server.pid))}\n`)
try {
  report('after start')
  const credentials = await createBenchCredentials(server.url)
  const login = {
    method: 'POST' as const,
    path: '/v1/auth/login',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: credentials.username, password: credentials.password, mode: 'token' }),
  }
  const flood = await runWrk(server, login, { connections: 16, durationSeconds: 5, warmupSeconds: 0 })
  report(`after ${flood.successCount} logins (16 connections)`)
  const device = (await (
    await fetch(`${server.url}/v1/auth/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ device_id: 'bench-memory-device' }),
    })
  ).json()) as { device_secret: string }
  const deviceSignIn = {
    method: 'POST' as const,
    path: '/v1/auth/device',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ device_id: 'bench-memory-device', device_secret: device.device_secret }),
  }
  let opened = flood.successCount
  const openingStarted = Date.now()
  // Runs of device sign-ins until the target of live sessions, bounded to three minutes.
  while (opened < liveSessionTarget && Date.now() - openingStarted < 180_000) {
    const tally = await runWrk(server, deviceSignIn, { connections: 32, durationSeconds: 5, warmupSeconds: 0 })
    opened += tally.successCount
  }
  report(`with ${opened} live sessions`)
  const chains: string[] = []
  /** Signs in 32 times: each refresh token starts a chain. */
  async function startChains(into: string[]): Promise<void> {
    for (let index = 0; index < 32; index += 1) {
      const response = await fetch(`${server.url}/v1/auth/login`, {
        method: 'POST',
        headers: login.headers,
        body: login.body,
      })
      into.push(((await response.json()) as { refresh_token: string }).refresh_token)
    }
  }
  await startChains(chains)
  const refresh = { method: 'POST' as const, path: '/v1/auth/refresh', headers: { 'content-type': 'application/json' } }
  let refreshed = 0
  const started = Date.now()
  // One run of chains, long enough for the target at the rate reached, bounded to two minutes.
  while (refreshed < refreshTarget && Date.now() - started < 120_000) {
    const tally = await runWrk(
      server,
      refresh,
      { connections: 32, durationSeconds: 5, warmupSeconds: 0 },
      { refreshTokens: chains.splice(0) },
    )
    refreshed += tally.successCount
    // The chains' last tokens are lost with the run: new chains for the next one.
    await startChains(chains)
  }
  report(`after ${refreshed} refreshes`)
} finally {
  await server.stop()
}

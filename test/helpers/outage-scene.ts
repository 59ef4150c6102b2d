/**
 * What the backend-outage tests share: two Tessera processes on one master key, the users and
 * the ended session the mixed load works with, and the checks every outage must pass (only
 * successes and 503 problem+json with Retry-After, never an ended session accepted, and full
 * service again a few seconds after the backend returns).
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { loadOrCreateMasterKey } from '../../src/storage/master-key.ts'
import { signInBothWays, type LoadRecord, type LoadUser } from './mixed-load.ts'
import { startTesseraProcess, type TesseraProcess } from './tessera-process.ts'

export const outagePassword = 'correct horse battery staple'
export const outagePublicUrl = 'http://tessera.test'

/** Starts two nodes under `root`, each with its own data directory and the same master key. */
export async function startTwoNodes(root: string, backendSettings: Record<string, string>): Promise<TesseraProcess[]> {
  const masterKey = join(root, 'master.key')
  loadOrCreateMasterKey(masterKey)
  const settingsFor = (index: number) => {
    const dir = mkdtempSync(join(root, `node${index}-`))
    copyFileSync(masterKey, join(dir, 'master.key'))
    return {
      TESSERA_DATA_DIR: dir,
      TESSERA_PUBLIC_URL: outagePublicUrl,
      TESSERA_DATABASE_MIGRATE_ON_START: 'true',
      TESSERA_BACKEND_TIMEOUT: '1s',
      TESSERA_ARGON2_MEMORY_KIB: '12288',
      TESSERA_ARGON2_PASSES: '3',
      TESSERA_LOG_LEVEL: 'error',
      ...backendSettings,
    }
  }
  // One after the other: the first migrates the schema.
  const first = await startTesseraProcess(settingsFor(1))
  try {
    return [first, await startTesseraProcess(settingsFor(2))]
  } catch (error) {
    // A node left running would keep the test file alive.
    await first.stop()
    throw error
  }
}

export async function readiness(node: TesseraProcess): Promise<number> {
  return (await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(5000) })).status
}

/**
 * Registers three users and signs each in on alternate nodes, then ends one more session of the
 * first user on both transports: the load keeps presenting it, and it must stay refused.
 */
export async function prepareLoadUsers(nodes: readonly TesseraProcess[], namePrefix: string) {
  const urls = nodes.map((node) => node.url)
  const [first = '', second = ''] = urls
  const users: LoadUser[] = []
  for (const index of [1, 2, 3]) {
    const username = `${namePrefix}${index}`
    const registered = await fetch(`${first}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: outagePassword }),
    })
    assert.equal(registered.status, 201)
    users.push(await signInBothWays(urls[index % 2] ?? first, username, outagePassword))
  }
  const ended = await signInBothWays(second, `${namePrefix}1`, outagePassword)
  const bearerLogout = await fetch(`${first}/v1/auth/logout`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ended.accessToken}` },
  })
  assert.equal(bearerLogout.status, 204)
  const cookieLogout = await fetch(`${second}/v1/auth/logout`, {
    method: 'POST',
    headers: { cookie: ended.cookie, origin: outagePublicUrl },
  })
  assert.equal(cookieLogout.status, 204)
  return { urls, users, ended }
}

/** Never a 500 or a missing answer: success or 503 problem+json with Retry-After (401 for ended sessions). */
export function assertOnlySuccessOrUnavailable(records: readonly LoadRecord[]): void {
  for (const record of records) {
    const allowed = record.kind === 'me-revoked' ? [401, 503] : [200, 503]
    assert.ok(allowed.includes(record.status), `${record.kind} at ${Math.round(record.sentAtMs)} ms: ${record.status}`)
    if (record.status === 503) {
      assert.equal(record.code, 'service_unavailable')
      assert.ok(record.hasRetryAfter, '503 carries Retry-After')
    }
  }
}

/** Every request sent 5 s or more after `restoredAtMs` succeeded (ended sessions aside). */
export function assertRecoveredWithinFiveSeconds(records: readonly LoadRecord[], restoredAtMs: number): void {
  const recovered = records.filter((record) => record.sentAtMs > restoredAtMs + 5000 && record.kind !== 'me-revoked')
  assert.ok(recovered.length > 0)
  assert.deepEqual(
    recovered.filter((record) => record.status !== 200).map((record) => `${record.kind}:${record.status}`),
    [],
  )
}

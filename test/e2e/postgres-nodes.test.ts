/**
 * Two Tessera processes on PostgreSQL alone (no Redis): the invalidation bus runs over
 * LISTEN/NOTIFY, so a logout or a role change on one node holds on the other within 1 s even
 * though each would trust its copy of a session for 30 s.
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { loadOrCreateMasterKey } from '../../src/storage/master-key.ts'
import { skipUnlessPostgres, testPostgresUrl, uniqueTestName } from '../helpers/backends.ts'
import { dropTestSchema } from '../helpers/postgres.ts'
import { startTesseraProcess, type TesseraProcess } from '../helpers/tessera-process.ts'

const skip = await skipUnlessPostgres()
const password = 'correct horse battery staple'
const root = mkdtempSync(join(tmpdir(), 'tessera-pg-nodes-'))
const schema = uniqueTestName('tessera_pg_nodes')
const nodes: TesseraProcess[] = []

before(async () => {
  if (skip) return
  const masterKey = join(root, 'master.key')
  loadOrCreateMasterKey(masterKey)
  for (const index of [1, 2]) {
    const dir = mkdtempSync(join(root, `node${index}-`))
    copyFileSync(masterKey, join(dir, 'master.key'))
    nodes.push(
      await startTesseraProcess({
        TESSERA_DATA_DIR: dir,
        TESSERA_PUBLIC_URL: 'http://tessera.test',
        TESSERA_DATABASE_URL: testPostgresUrl,
        TESSERA_DATABASE_SCHEMA: schema,
        TESSERA_DATABASE_MIGRATE_ON_START: 'true',
        TESSERA_SESSION_CACHE_TTL: '30s',
        TESSERA_ARGON2_MEMORY_KIB: '12288',
        TESSERA_ARGON2_PASSES: '3',
      }),
    )
  }
})

after(async () => {
  await Promise.all(nodes.map((node) => node.stop()))
  if (!skip) await dropTestSchema(schema)
  rmSync(root, { recursive: true, force: true })
})

async function post(url: string, body: unknown, bearer?: string) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  })
}

describe('two nodes on PostgreSQL alone', { skip }, () => {
  it('a logout on one node is refused on the other within 1 s', async (t) => {
    const [first, second] = nodes
    if (!first || !second) throw new Error('setup failed')
    assert.equal((await post(`${first.url}/v1/auth/register`, { username: 'solo', password })).status, 201)
    const login = (await (await post(`${second.url}/v1/auth/login`, { username: 'solo', password })).json()) as {
      access_token: string
    }
    const me = () => fetch(`${second.url}/v1/me`, { headers: { authorization: `Bearer ${login.access_token}` } })
    assert.equal((await me()).status, 200)
    assert.equal((await post(`${first.url}/v1/auth/logout`, {}, login.access_token)).status, 204)
    const startedAt = performance.now()
    while ((await me()).status !== 401) {
      assert.ok(performance.now() - startedAt < 1000, 'the second node still accepts the session after 1 s')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    t.diagnostic(`logout seen on the other node after ${(performance.now() - startedAt).toFixed(1)} ms`)
  })
})

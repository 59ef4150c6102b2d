/**
 * The event stream across three Tessera processes sharing PostgreSQL and Redis: an event made on
 * one node reaches stream clients of every node, a client resumes on another node with the
 * Last-Event-ID of the first, a verifier following node 3 refuses a token within 1 s of its
 * logout on node 1, and the session limit holds under sign-ins spread over the three nodes.
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openRedisConnection } from '../../src/storage/redis/connection.ts'
import { loadOrCreateMasterKey } from '../../src/storage/master-key.ts'
import { createVerifier, type EndedSession } from '../../src/verifier/index.ts'
import { skipUnlessPostgresAndRedis, testPostgresUrl, testRedisUrl, uniqueTestName } from '../helpers/backends.ts'
import { dataOf, openStreamClient } from '../helpers/event-stream-client.ts'
import { dropTestSchema } from '../helpers/postgres.ts'
import { deleteTestKeys } from '../helpers/redis.ts'
import { startTesseraProcess, startTesseraProcesses, type TesseraProcess } from '../helpers/tessera-process.ts'
import { basicAuthorization } from '../helpers/token-lifecycle.ts'

const skip = await skipUnlessPostgresAndRedis()
const password = 'correct horse battery staple'
const publicUrl = 'http://tessera.test'
const root = mkdtempSync(join(tmpdir(), 'tessera-stream-nodes-'))
const schema = uniqueTestName('tessera_stream_nodes')
const keyPrefix = uniqueTestName('tessera-stream-nodes')
const nodes: TesseraProcess[] = []
let client = { id: '', secret: '', authorization: '' }
let adminToken = ''

async function call(
  base: TesseraProcess,
  path: string,
  init: { method?: string; body?: unknown; bearer?: string } = {},
) {
  const response = await fetch(`${base.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.bearer ? { authorization: `Bearer ${init.bearer}` } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  const text = await response.text()
  return { status: response.status, json: text === '' ? null : JSON.parse(text) }
}

function node(index: number): TesseraProcess {
  const found = nodes[index]
  if (!found) throw new Error('setup failed')
  return found
}

before(async () => {
  if (skip) return
  const masterKeyPath = join(root, 'master.key')
  loadOrCreateMasterKey(masterKeyPath)
  const adminPasswordFile = join(root, 'admin-password')
  writeFileSync(adminPasswordFile, `${password}\n`, { mode: 0o600 })
  const settingsFor = (index: number) => {
    const dir = mkdtempSync(join(root, `node${index}-`))
    copyFileSync(masterKeyPath, join(dir, 'master.key'))
    return {
      TESSERA_DATA_DIR: dir,
      TESSERA_PUBLIC_URL: publicUrl,
      TESSERA_DATABASE_URL: testPostgresUrl,
      TESSERA_DATABASE_SCHEMA: schema,
      TESSERA_DATABASE_MIGRATE_ON_START: 'true',
      TESSERA_REDIS_URL: testRedisUrl,
      TESSERA_REDIS_KEY_PREFIX: keyPrefix,
      TESSERA_SESSION_CACHE_TTL: '30s',
      TESSERA_SESSION_LIMITS: 'player:1',
      TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '90',
      TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '90',
      TESSERA_ARGON2_MEMORY_KIB: '12288',
      TESSERA_ARGON2_PASSES: '3',
      TESSERA_BOOTSTRAP_ADMIN_USERNAME: 'root',
      TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: adminPasswordFile,
    }
  }
  nodes.push(await startTesseraProcess(settingsFor(1)))
  nodes.push(...(await startTesseraProcesses([settingsFor(2), settingsFor(3)])))
  adminToken = (await call(node(0), '/v1/auth/login', { body: { username: 'root', password } })).json.access_token
  const created = await call(node(0), '/v1/admin/clients', { body: { name: 'game-server' }, bearer: adminToken })
  assert.equal(created.status, 201)
  client = {
    id: created.json.client_id,
    secret: created.json.client_secret,
    authorization: basicAuthorization(created.json.client_id, created.json.client_secret),
  }
})

after(async () => {
  await Promise.all(nodes.map((running) => running.stop()))
  if (!skip) {
    await dropTestSchema(schema)
    const connection = await openRedisConnection({
      settings: { urls: [testRedisUrl], isCluster: false, keyPrefix },
      timeoutMs: 2000,
    })
    await deleteTestKeys(connection, keyPrefix)
    await connection.close()
  }
  rmSync(root, { recursive: true, force: true })
})

async function newPlayer(username: string): Promise<string> {
  const registered = await call(node(0), '/v1/auth/register', { body: { username, password } })
  assert.equal(registered.status, 201)
  const id = registered.json.id as string
  assert.equal(
    (
      await call(node(0), `/v1/admin/users/${id}/roles`, {
        method: 'PUT',
        body: { roles: ['player', 'user'] },
        bearer: adminToken,
      })
    ).status,
    200,
  )
  return id
}

describe('the event stream on three nodes sharing PostgreSQL and Redis', { skip }, () => {
  it('delivers a logout made on node 1 to stream clients of nodes 2 and 3, and resumes on another node', async (t) => {
    const streams = await Promise.all([1, 2].map((index) => openStreamClient(node(index).url, client.authorization)))
    t.after(() => streams.forEach((stream) => stream.close()))
    const id = await newPlayer('wanderer')
    const first = (await call(node(1), '/v1/auth/login', { body: { username: 'wanderer', password } })).json
    const startedAt = performance.now()
    assert.equal((await call(node(0), '/v1/auth/logout', { method: 'POST', bearer: first.access_token })).status, 204)
    const seen = await Promise.all(
      streams.map((stream) =>
        stream.waitFor(
          (message) => message.event === 'session_ended' && dataOf(message).session_id === first.session_id,
        ),
      ),
    )
    t.diagnostic(
      `logout on node 1 seen on the streams of nodes 2 and 3 after ${(performance.now() - startedAt).toFixed(1)} ms`,
    )
    assert.equal(seen[0]?.id, seen[1]?.id)
    assert.equal(dataOf(seen[0] ?? { event: '', data: '{}', id: null }).user_id, id)

    // A client of node 3 drops, events happen on node 1, and it resumes on node 2.
    streams[1]?.close()
    const second = (await call(node(0), '/v1/auth/login', { body: { username: 'wanderer', password } })).json
    assert.equal((await call(node(0), '/v1/auth/logout', { method: 'POST', bearer: second.access_token })).status, 204)
    const resumed = await openStreamClient(node(1).url, client.authorization, seen[1]?.id ?? '')
    t.after(() => resumed.close())
    await resumed.waitFor((message) => dataOf(message).session_id === second.session_id)
    assert.equal(
      resumed.messages.some((message) => message.event === 'resync'),
      false,
    )
  })

  it('a verifier following node 3 refuses a token within 1 s of its logout on node 1', async (t) => {
    const ended: EndedSession[] = []
    const verifier = createVerifier({
      issuer: publicUrl,
      audience: publicUrl,
      jwksUrl: `${node(2).url}/.well-known/jwks.json`,
      revocationStream: {
        clientId: client.id,
        clientSecret: client.secret,
        url: `${node(2).url}/v1/events/stream`,
        onSessionEnded: (session) => void ended.push(session),
      },
    })
    t.after(() => verifier.close())
    await verifier.revocationsReady()
    await newPlayer('runner')
    const login = (await call(node(1), '/v1/auth/login', { body: { username: 'runner', password } })).json
    await verifier.verifyAccessToken(login.access_token)
    assert.equal((await call(node(0), '/v1/auth/logout', { method: 'POST', bearer: login.access_token })).status, 204)
    const startedAt = performance.now()
    for (;;) {
      const refused = await verifier.verifyAccessToken(login.access_token).then(
        () => false,
        () => true,
      )
      if (refused) break
      assert.ok(performance.now() - startedAt < 1000, 'the verifier still accepts the token 1 s after the logout')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    t.diagnostic(`refused by the verifier ${(performance.now() - startedAt).toFixed(1)} ms after the logout answered`)
    assert.deepEqual(
      ended.map((session) => session.reason),
      ['logout'],
    )
  })

  it('keeps one live session of a player:1 user after 60 sign-ins spread over the three nodes, each end sent on the stream', async (t) => {
    const stream = await openStreamClient(node(2).url, client.authorization)
    t.after(() => stream.close())
    await newPlayer('crowd')
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_unused, index) =>
        call(node(index % 3), '/v1/auth/login', { body: { username: 'crowd', password } }),
      ),
    )
    assert.deepEqual(
      [...new Set(answers.map((answer) => answer.status))],
      [200],
      JSON.stringify(answers.find((answer) => answer.status !== 200)),
    )
    // Exactly one of the sixty sessions still works, on any node.
    const checks = await Promise.all(
      answers.map((answer, index) => call(node(index % 3), '/v1/me', { bearer: answer.json.access_token })),
    )
    const working = answers.filter((_answer, index) => checks[index]?.status === 200)
    assert.equal(working.length, 1)
    assert.ok(checks.every((check) => check.status === 200 || check.json.reason === 'signed_in_elsewhere'))
    const survivor = working[0]?.json.session_id
    for (const answer of answers) {
      if (answer.json.session_id === survivor) continue
      await stream.waitFor(
        (message) => dataOf(message).session_id === answer.json.session_id && dataOf(message).reason === 'limit',
        10_000,
      )
    }
  })
})

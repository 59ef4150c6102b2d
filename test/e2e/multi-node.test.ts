/**
 * Three Tessera processes on different ports sharing one PostgreSQL (its own schema) and one Redis
 * (its own key prefix), as behind a load balancer with no sticky routing (SE-10, AZ-01).
 * Each node would trust its copy of a session for 30 s, and re-reads the signing keys only every
 * 10 s: only the invalidation bus can make a logout, a role change or a key rotation hold on the
 * other nodes within the 1 s the checks allow. The throttle counters live in Redis, so failed
 * sign-ins spread over the nodes lock an account at the count one node would.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { decodeProtectedHeader } from 'jose'
import pg from 'pg'
import { loadOrCreateMasterKey } from '../../src/storage/master-key.ts'
import { openRedisConnection } from '../../src/storage/redis/connection.ts'
import { createThrottleKeys } from '../../src/storage/redis/throttles.ts'
import { skipUnlessPostgresAndRedis, testPostgresUrl, testRedisUrl, uniqueTestName } from '../helpers/backends.ts'
import { dropTestSchema } from '../helpers/postgres.ts'
import { deleteTestKeys } from '../helpers/redis.ts'
import {
  cleanProcessEnv,
  startTesseraProcess,
  startTesseraProcesses,
  type TesseraProcess,
} from '../helpers/tessera-process.ts'

const skip = await skipUnlessPostgresAndRedis()
const password = 'correct horse battery staple'
const publicUrl = 'http://tessera.test'
const propagationLimitMs = 1000
// A rotated key signs after this delay (short here, so the test need not wait ten minutes).
const keyActivationDelay = '2s'
// The hard cap: TESSERA_THROTTLE_MAX_FAILURES (20, its minimum) less the 10 failures kept for
// networks the user has signed in from; the clients here never have, and the back-off thresholds
// (90, from startTesseraProcess) lie beyond it, so the lock comes at exactly this count.
const maxFailures = '20'
const lockedAfterFailures = 10
const projectRoot = fileURLToPath(new URL('../..', import.meta.url))

const root = mkdtempSync(join(tmpdir(), 'tessera-nodes-'))
const schema = uniqueTestName('tessera_nodes')
const keyPrefix = uniqueTestName('tessera-nodes')
const nodes: TesseraProcess[] = []

interface Reply {
  status: number
  body: any
  headers: Headers
}

async function call(
  node: TesseraProcess,
  path: string,
  init: { method?: string; body?: unknown; bearer?: string; cookie?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {}
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`
  // A browser on the public origin: cookie-authenticated unsafe requests must be same-origin.
  if (init.cookie !== undefined) Object.assign(headers, { cookie: init.cookie, origin: publicUrl })
  const response = await fetch(`${node.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers }
}

function node(index: number): TesseraProcess {
  const found = nodes[index]
  if (!found) throw new Error(`node ${index + 1} is not running`)
  return found
}

async function register(on: TesseraProcess, username: string): Promise<string> {
  const reply = await call(on, '/v1/auth/register', { body: { username, password } })
  assert.equal(reply.status, 201, JSON.stringify(reply.body))
  return reply.body.id as string
}

async function logIn(on: TesseraProcess, username: string, mode: 'token' | 'cookie' = 'token') {
  const response = await fetch(`${on.url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: publicUrl },
    body: JSON.stringify({ username, password, mode }),
  })
  assert.equal(response.status, 200)
  const body = (await response.json()) as { access_token?: string; refresh_token?: string; session_id: string }
  const cookie = /__Host-session=[^;]*/.exec(response.headers.get('set-cookie') ?? '')?.[0] ?? ''
  return {
    accessToken: body.access_token ?? '',
    refreshToken: body.refresh_token ?? '',
    sessionId: body.session_id,
    cookie,
  }
}

/** Polls until `isDone` holds; returns how long it took. Fails past the limit, saying `state()`. */
async function timeUntil(
  isDone: () => Promise<boolean>,
  state: () => string,
  limitMs = propagationLimitMs,
): Promise<number> {
  const startedAt = performance.now()
  for (;;) {
    const done = await isDone()
    const elapsed = performance.now() - startedAt
    if (done) return elapsed
    assert.ok(elapsed < limitMs, `${state()} after ${Math.round(elapsed)} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Polls until `request` answers `status`; returns how long it took. Fails past the limit. */
function timeUntilStatus(request: () => Promise<Reply>, status: number, limitMs = propagationLimitMs): Promise<number> {
  let last = 0
  return timeUntil(
    async () => (last = (await request()).status) === status,
    () => `still ${last} (expected ${status})`,
    limitMs,
  )
}

async function publishedKids(on: TesseraProcess): Promise<string[]> {
  return (await call(on, '/.well-known/jwks.json')).body.keys.map((key: { kid: string }) => key.kid)
}

let sharedSettings: Record<string, string> = {}

/** The `tessera` command with the nodes' settings (an operator's shell beside the cluster). */
function runTessera(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'src/cli/main.ts'), ...args], {
      cwd: projectRoot,
      env: cleanProcessEnv(sharedSettings),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

before(async () => {
  if (skip) return
  const masterKeyPath = join(root, 'master.key')
  loadOrCreateMasterKey(masterKeyPath)
  const adminPasswordFile = join(root, 'admin-password')
  writeFileSync(adminPasswordFile, `${password}\n`, { mode: 0o600 })
  const settingsFor = (index: number) => {
    const dir = mkdtempSync(join(root, `node${index}-`))
    // Every node holds the same master key: the signing keys in PostgreSQL are sealed with it.
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
      TESSERA_ARGON2_MEMORY_KIB: '12288',
      TESSERA_ARGON2_PASSES: '3',
      TESSERA_BOOTSTRAP_ADMIN_USERNAME: 'root',
      TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: adminPasswordFile,
      TESSERA_KEY_ACTIVATION_DELAY: keyActivationDelay,
      TESSERA_THROTTLE_MAX_FAILURES: maxFailures,
    }
  }
  sharedSettings = settingsFor(0)
  // The first node migrates the schema, creates the admin and the first signing key.
  nodes.push(await startTesseraProcess(settingsFor(1)))
  nodes.push(...(await startTesseraProcesses([settingsFor(2), settingsFor(3)])))
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

describe('three nodes sharing PostgreSQL and Redis', { skip }, () => {
  it('register on node 1, log in on node 2, use on node 3, log out on node 1: refused on 2 and 3 within 1 s', async (t) => {
    const username = `nomad${randomBytes(3).toString('hex')}`
    await register(node(0), username)
    const bearer = await logIn(node(1), username)
    const browser = await logIn(node(1), username, 'cookie')
    // Every node serves both sessions (and now holds a copy of them).
    for (const each of nodes) {
      assert.equal((await call(each, '/v1/me', { bearer: bearer.accessToken })).status, 200)
      assert.equal((await call(each, '/v1/me', { cookie: browser.cookie })).status, 200)
    }

    assert.equal((await call(node(0), '/v1/auth/logout', { method: 'POST', bearer: bearer.accessToken })).status, 204)
    for (const index of [1, 2]) {
      const elapsed = await timeUntilStatus(() => call(node(index), '/v1/me', { bearer: bearer.accessToken }), 401)
      t.diagnostic(`bearer logout seen on node ${index + 1} after ${elapsed.toFixed(1)} ms`)
    }
    assert.equal((await call(node(2), '/v1/me', { cookie: browser.cookie })).status, 200, 'the other session lives on')

    assert.equal((await call(node(0), '/v1/auth/logout', { method: 'POST', cookie: browser.cookie })).status, 204)
    for (const index of [1, 2]) {
      const elapsed = await timeUntilStatus(() => call(node(index), '/v1/me', { cookie: browser.cookie }), 401)
      t.diagnostic(`cookie logout seen on node ${index + 1} after ${elapsed.toFixed(1)} ms`)
    }
  })

  it('session data written on one node is read on another and unreadable on every node within 1 s of the logout; a ticket is redeemed once across nodes', async () => {
    const username = `gamer${randomBytes(3).toString('hex')}`
    await register(node(0), username)
    const { accessToken } = await logIn(node(1), username)
    const dataPath = '/v1/sessions/current/data'
    const put = await fetch(`${node(0).url}${dataPath}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', 'if-match': '"0"' },
      body: '{"cart":["sword"]}',
    })
    assert.equal(put.status, 200)
    const read = await call(node(2), dataPath, { bearer: accessToken })
    assert.deepEqual(read.body, { cart: ['sword'] })
    assert.equal(read.headers.get('etag'), '"1"')
    const stale = await fetch(`${node(1).url}${dataPath}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', 'if-match': '"0"' },
      body: '{"cart":[]}',
    })
    assert.equal(stale.status, 412)

    const root = await logIn(node(0), 'root')
    const client = await call(node(0), '/v1/admin/clients', {
      body: { name: `game-${randomBytes(3).toString('hex')}` },
      bearer: root.accessToken,
    })
    assert.equal(client.status, 201)
    const basic = `Basic ${Buffer.from(`${client.body.client_id}:${client.body.client_secret}`).toString('base64')}`
    const ticket = await call(node(1), '/v1/tickets', { body: { audience: 'arena' }, bearer: accessToken })
    const redeem = (on: TesseraProcess) =>
      fetch(`${on.url}/v1/tickets/redeem`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: JSON.stringify({ ticket: ticket.body.ticket, audience: 'arena' }),
      }).then((response) => response.status)
    const statuses = await Promise.all([...nodes, ...nodes, ...nodes].map(redeem))
    assert.deepEqual(statuses.filter((status) => status === 200).length, 1, statuses.join(','))

    assert.equal((await call(node(2), '/v1/auth/logout', { method: 'POST', bearer: accessToken })).status, 204)
    for (const index of [0, 1]) await timeUntilStatus(() => call(node(index), dataPath, { bearer: accessToken }), 401)
  })

  it('"log out everywhere" on node 1 ends the sessions used on nodes 2 and 3 within 1 s (SE-10)', async () => {
    const username = `roamer${randomBytes(3).toString('hex')}`
    await register(node(2), username)
    const sessions = [
      await logIn(node(0), username),
      await logIn(node(1), username),
      await logIn(node(2), username, 'cookie'),
    ]
    for (const each of nodes) {
      assert.equal((await call(each, '/v1/me', { bearer: sessions[1]?.accessToken ?? '' })).status, 200)
      assert.equal((await call(each, '/v1/me', { cookie: sessions[2]?.cookie ?? '' })).status, 200)
    }
    const ended = await call(node(0), '/v1/sessions?scope=all', {
      method: 'DELETE',
      bearer: sessions[0]?.accessToken ?? '',
    })
    assert.equal(ended.status, 200)
    assert.equal(ended.body.ended, 3)
    await timeUntilStatus(() => call(node(1), '/v1/me', { bearer: sessions[1]?.accessToken ?? '' }), 401)
    await timeUntilStatus(() => call(node(2), '/v1/me', { cookie: sessions[2]?.cookie ?? '' }), 401)
    await timeUntilStatus(() => call(node(2), '/v1/me', { bearer: sessions[0]?.accessToken ?? '' }), 401)
  })

  it('an admin role taken away on node 1 is refused on nodes 2 and 3 within 1 s (AZ-01)', async (t) => {
    const root = await logIn(node(0), 'root')
    const username = `deputy${randomBytes(3).toString('hex')}`
    const userId = await register(node(0), username)
    const granted = await call(node(0), `/v1/admin/users/${userId}/roles`, {
      method: 'PUT',
      bearer: root.accessToken,
      body: { roles: ['admin', 'user'] },
    })
    assert.equal(granted.status, 200)
    const deputy = await logIn(node(1), username)
    for (const each of nodes)
      assert.equal((await call(each, '/v1/admin/users', { bearer: deputy.accessToken })).status, 200)

    const revoked = await call(node(0), `/v1/admin/users/${userId}/roles`, {
      method: 'PUT',
      bearer: root.accessToken,
      body: { roles: ['user'] },
    })
    assert.equal(revoked.status, 200)
    for (const index of [1, 2]) {
      const elapsed = await timeUntilStatus(
        () => call(node(index), '/v1/admin/users', { bearer: deputy.accessToken }),
        403,
      )
      t.diagnostic(`role change seen on node ${index + 1} after ${elapsed.toFixed(1)} ms`)
      assert.deepEqual((await call(node(index), '/v1/me', { bearer: deputy.accessToken })).body.user.roles, ['user'])
    }
  })

  it('a user disabled on node 1 is refused on nodes 2 and 3 within 1 s, and a kick from the tessera command on every node', async (t) => {
    const root = await logIn(node(0), 'root')
    const username = `rogue${randomBytes(3).toString('hex')}`
    const userId = await register(node(1), username)
    const player = await logIn(node(1), username)
    const browser = await logIn(node(2), username, 'cookie')
    for (const each of nodes) {
      assert.equal((await call(each, '/v1/me', { bearer: player.accessToken })).status, 200)
      assert.equal((await call(each, '/v1/me', { cookie: browser.cookie })).status, 200)
    }
    const disabled = await call(node(0), `/v1/admin/users/${username}/disable`, {
      method: 'POST',
      bearer: root.accessToken,
      body: { reason: 'cheating' },
    })
    assert.equal(disabled.status, 200)
    for (const index of [1, 2]) {
      const elapsed = await timeUntilStatus(() => call(node(index), '/v1/me', { bearer: player.accessToken }), 401)
      t.diagnostic(`disable seen on node ${index + 1} after ${elapsed.toFixed(1)} ms`)
      await timeUntilStatus(() => call(node(index), '/v1/me', { cookie: browser.cookie }), 401)
    }
    assert.equal(
      (await call(node(2), '/v1/auth/refresh', { method: 'POST', body: { refresh_token: player.refreshToken } }))
        .status,
      400,
    )
    assert.equal(
      (await call(node(2), `/v1/admin/users/${userId}/enable`, { method: 'POST', bearer: root.accessToken })).status,
      200,
    )

    const again = await logIn(node(2), username)
    for (const each of nodes) assert.equal((await call(each, '/v1/me', { bearer: again.accessToken })).status, 200)
    const kicked = await runTessera(['user', 'sessions', 'end', username])
    assert.equal(kicked.code, 0, kicked.stderr)
    for (const index of [0, 1, 2]) {
      const elapsed = await timeUntilStatus(() => call(node(index), '/v1/me', { bearer: again.accessToken }), 401)
      t.diagnostic(`command-line kick seen on node ${index + 1} after ${elapsed.toFixed(1)} ms`)
    }
  })

  it('a role revoked with the tessera command, beside the running nodes, is refused on every node within 1 s', async (t) => {
    const root = await logIn(node(0), 'root')
    const username = `helper${randomBytes(3).toString('hex')}`
    const userId = await register(node(2), username)
    await call(node(0), `/v1/admin/users/${userId}/roles`, {
      method: 'PUT',
      bearer: root.accessToken,
      body: { roles: ['admin', 'user'] },
    })
    const helper = await logIn(node(1), username)
    for (const each of nodes)
      assert.equal((await call(each, '/v1/admin/users', { bearer: helper.accessToken })).status, 200)
    const revoked = await runTessera(['role', 'revoke', username, 'admin'])
    assert.equal(revoked.code, 0, revoked.stderr)
    for (const index of [0, 1, 2]) {
      const elapsed = await timeUntilStatus(
        () => call(node(index), '/v1/admin/users', { bearer: helper.accessToken }),
        403,
      )
      t.diagnostic(`command-line role change seen on node ${index + 1} after ${elapsed.toFixed(1)} ms`)
    }
  })

  it('every node publishes the same signing keys and accepts tokens signed by the others', async () => {
    const jwks = await Promise.all(nodes.map(async (each) => (await call(each, '/.well-known/jwks.json')).body.keys))
    assert.deepEqual(jwks[1], jwks[0])
    assert.deepEqual(jwks[2], jwks[0])
    const username = `signer${randomBytes(3).toString('hex')}`
    await register(node(1), username)
    for (const issuer of nodes) {
      const { accessToken } = await logIn(issuer, username)
      for (const verifier of nodes) assert.equal((await call(verifier, '/v1/me', { bearer: accessToken })).status, 200)
    }
  })

  it('a key rotated on node 1 is published by nodes 2 and 3 within 1 s, and its tokens are accepted on every node within 1 s', async (t) => {
    const root = await logIn(node(0), 'root')
    const rotated = await call(node(0), '/v1/admin/keys/rotate', { method: 'POST', bearer: root.accessToken })
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body))
    const kid: string = rotated.body.kid
    for (const index of [1, 2]) {
      let kids: string[] = []
      const elapsed = await timeUntil(
        async () => (kids = await publishedKids(node(index))).includes(kid),
        () => `node ${index + 1} publishes ${JSON.stringify(kids)}, not ${kid}`,
      )
      t.diagnostic(`new key published by node ${index + 1} after ${elapsed.toFixed(1)} ms`)
    }

    // Each node signs with the new key from its activation instant; the others accept those tokens.
    const username = `rotor${randomBytes(3).toString('hex')}`
    await register(node(1), username)
    const activatesInMs = Date.parse(rotated.body.activates_at) - Date.now()
    let signedKid = ''
    await timeUntil(
      async () => (signedKid = decodeProtectedHeader((await logIn(node(0), username)).accessToken).kid ?? '') === kid,
      () => `node 1 still signs with ${signedKid}`,
      Math.max(0, activatesInMs) + propagationLimitMs,
    )
    for (const [issuerIndex, issuer] of nodes.entries()) {
      const { accessToken } = await logIn(issuer, username)
      assert.equal(decodeProtectedHeader(accessToken).kid, kid, `node ${issuerIndex + 1} signs with the new key`)
      for (const [verifierIndex, verifier] of nodes.entries()) {
        const elapsed = await timeUntilStatus(() => call(verifier, '/v1/me', { bearer: accessToken }), 200)
        t.diagnostic(
          `token of node ${issuerIndex + 1} accepted by node ${verifierIndex + 1} after ${elapsed.toFixed(1)} ms`,
        )
      }
    }
  })

  it("an emergency rotation, on node 1 or from the command line, refuses the old keys' tokens on every node within 1 s; new sign-ins work everywhere", async (t) => {
    const username = `leak${randomBytes(3).toString('hex')}`
    await register(node(1), username)
    const before = await logIn(node(1), username)
    for (const each of nodes) assert.equal((await call(each, '/v1/me', { bearer: before.accessToken })).status, 200)
    const root = await logIn(node(0), 'root')
    const replaced = await call(node(0), '/v1/admin/keys/rotate?emergency=true', {
      method: 'POST',
      bearer: root.accessToken,
    })
    assert.equal(replaced.status, 201, JSON.stringify(replaced.body))
    for (const [index, each] of nodes.entries()) {
      const elapsed = await timeUntilStatus(() => call(each, '/v1/me', { bearer: before.accessToken }), 401)
      t.diagnostic(`old token refused by node ${index + 1} after ${elapsed.toFixed(1)} ms`)
      assert.deepEqual(await publishedKids(each), [replaced.body.kid])
    }
    const after = await logIn(node(2), username)
    assert.equal(decodeProtectedHeader(after.accessToken).kid, replaced.body.kid)
    for (const each of nodes) assert.equal((await call(each, '/v1/me', { bearer: after.accessToken })).status, 200)

    // The same from an operator's shell: the command announces the change to the running nodes.
    const command = await runTessera(['keys', 'rotate', '--emergency', '--json'])
    assert.equal(command.code, 0, command.stderr)
    const commandKid: string = JSON.parse(command.stdout).key.kid
    for (const [index, each] of nodes.entries()) {
      const elapsed = await timeUntilStatus(() => call(each, '/v1/me', { bearer: after.accessToken }), 401)
      t.diagnostic(`token refused by node ${index + 1} ${elapsed.toFixed(1)} ms after the command's emergency rotation`)
      assert.deepEqual(await publishedKids(each), [commandKid])
    }
  })

  it('failed sign-ins spread round-robin over the nodes lock the account at the same count as on one node; one unlock frees it everywhere', async () => {
    const spread = `spread${randomBytes(3).toString('hex')}`
    const single = `single${randomBytes(3).toString('hex')}`
    const spreadId = await register(node(0), spread)
    await register(node(0), single)
    const wrong = 'not the password of this account'
    // 1. Up to the lock, every failure is answered as a wrong password, wherever it lands.
    for (let attempt = 1; attempt <= lockedAfterFailures; attempt += 1) {
      for (const [username, target] of [
        [spread, node(attempt % nodes.length)],
        [single, node(0)],
      ] as const) {
        const reply = await call(target, '/v1/auth/login', { body: { username, password: wrong } })
        assert.equal(reply.status, 401, `failure ${attempt} of ${username}: ${JSON.stringify(reply.body)}`)
        assert.equal(reply.body.code, 'invalid_credentials')
      }
    }
    // 2. One node alone refuses even the right password now.
    const alone = await call(node(0), '/v1/auth/login', { body: { username: single, password } })
    assert.equal(alone.status, 429)
    assert.equal(alone.body.code, 'rate_limited')
    // 3. So does every node for the account whose failures were spread.
    for (const each of nodes) {
      const reply = await call(each, '/v1/auth/login', { body: { username: spread, password } })
      assert.deepEqual([reply.status, reply.body.code], [alone.status, alone.body.code])
      assert.equal(reply.headers.get('retry-after'), alone.headers.get('retry-after'))
    }
    // 4. The count sits in Redis, kept without expiry until a success or an unlock.
    const connection = await openRedisConnection({
      settings: { urls: [testRedisUrl], isCluster: false, keyPrefix },
      timeoutMs: 2000,
    })
    try {
      const key = createThrottleKeys(keyPrefix).record(`signin:account:${spread}`)
      assert.equal(await connection.command(key, ['HGET', key, 'count']), String(lockedAfterFailures))
      assert.equal(await connection.command(key, ['PTTL', key]), -1)
    } finally {
      await connection.close()
    }
    // 5. An admin unlock on one node clears both counters (username, and username + IP: found
    //    by its prefix) and frees the account on every node.
    const root = await logIn(node(1), 'root')
    const unlocked = await call(node(1), `/v1/admin/users/${spreadId}/unlock`, {
      method: 'POST',
      bearer: root.accessToken,
    })
    assert.deepEqual([unlocked.status, unlocked.body.cleared_counters], [200, 2])
    for (const each of nodes)
      assert.equal((await call(each, '/v1/auth/login', { body: { username: spread, password } })).status, 200)
  })

  it('kill -9 of one node during a registration load loses no acknowledged user', async (t) => {
    const acknowledged: string[] = []
    const statuses = new Map<string, number>()
    const victim = node(1)
    const deadline = Date.now() + 3000
    let sequence = 0
    const worker = async (workerIndex: number) => {
      while (Date.now() < deadline) {
        sequence += 1
        const username = `load${workerIndex}x${sequence}x${randomBytes(2).toString('hex')}`
        const target = nodes[sequence % nodes.length] ?? victim
        try {
          const reply = await call(target, '/v1/auth/register', { body: { username, password } })
          statuses.set(String(reply.status), (statuses.get(String(reply.status)) ?? 0) + 1)
          if (reply.status === 201) acknowledged.push(username)
        } catch {
          // The killed node refuses or drops the connection: nothing was acknowledged.
          statuses.set('no answer', (statuses.get('no answer') ?? 0) + 1)
        }
      }
    }
    const killer = new Promise<void>((resolve) => setTimeout(() => void victim.kill().then(resolve), 1000))
    await Promise.all([killer, ...[1, 2, 3, 4, 5, 6].map(worker)])
    t.diagnostic(`registrations: ${JSON.stringify(Object.fromEntries(statuses))}`)
    assert.ok(acknowledged.length > 10, `only ${acknowledged.length} registrations were acknowledged`)
    assert.ok(![...statuses.keys()].some((status) => status.startsWith('5')), 'no 5xx from the surviving nodes')

    const client = new pg.Client({ connectionString: testPostgresUrl })
    await client.connect()
    try {
      const { rows } = await client.query(`SELECT username_key FROM "${schema}".users WHERE username_key = ANY($1)`, [
        acknowledged,
      ])
      const stored = new Set(rows.map((row: { username_key: string }) => row.username_key))
      assert.deepEqual(
        acknowledged.filter((username) => !stored.has(username)),
        [],
      )
    } finally {
      await client.end()
    }
    // The survivors still serve one of the users acknowledged by the killed node.
    assert.equal((await call(node(2), '/v1/auth/login', { body: { username: acknowledged[0], password } })).status, 200)
  })
})

/**
 * The Python examples against a live Tessera, as their READMEs run them: Tessera as its own
 * process (`tessera serve`), the Flask resource server as its own processes (`python3 app.py`,
 * Werkzeug), and the `requests` client as a module and as a program. The Flask decorator is also
 * run against an issuer of the test's own, whose key signs the hostile tokens: each rule it checks
 * has a token that breaks only that rule.
 *
 * Needs Debian's python3-flask, python3-jwt and python3-requests (see test/helpers/python.ts:
 * skipped without them, a failure with CI=true).
 */
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose'
import { requirePython } from '../helpers/python.ts'
import { startTesseraProcess, type TesseraProcess } from '../helpers/tessera-process.ts'

const runFile = promisify(execFile)
const flaskDir = fileURLToPath(new URL('../../examples/flask-resource-server/', import.meta.url))
const clientDir = fileURLToPath(new URL('../../examples/python-client/', import.meta.url))
const pythonModules = ['flask', 'jwt', 'requests', 'cryptography'] as const
const pythonCheck = 'from jwt.algorithms import OKPAlgorithm, ECAlgorithm, RSAAlgorithm'
const password = 'flask tutorial readers sign in here'
const adminPassword = 'the boss of the notes service'

interface HttpAnswer {
  status: number
  headers: Headers
  json: any
}

async function call(
  url: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...init.headers }
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
  const text = await response.text()
  let json: unknown = null
  try {
    json = text === '' ? null : JSON.parse(text)
  } catch {
    json = text
  }
  return { status: response.status, headers: response.headers, json }
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

interface PythonProcess {
  url: string
  output(): string
  stop(): Promise<void>
}

const children: PythonProcess[] = []

/** `python3 app.py` with `settings`, on a free port Werkzeug picks and prints. */
function startFlask(python: string, settings: Record<string, string>): Promise<PythonProcess> {
  const child: ChildProcess = spawn(python, ['app.py'], {
    cwd: flaskDir,
    env: {
      PATH: process.env.PATH ?? '',
      NO_PROXY: '127.0.0.1,localhost',
      PYTHONDONTWRITEBYTECODE: '1',
      PORT: '0',
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const handle: PythonProcess = {
    url: '',
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
  children.push(handle)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Flask did not start:\n${output}`)), 20_000)
    const read = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match?.[1] && handle.url === '') {
        clearTimeout(timer)
        handle.url = match[1]
        resolve(handle)
      }
    }
    child.stdout?.on('data', read)
    child.stderr?.on('data', read)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Flask exited (${code}):\n${output}`))
    })
  })
}

function runPython(python: string, args: string[], env: Record<string, string>, cwd = clientDir) {
  return runFile(python, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', NO_PROXY: '127.0.0.1,localhost', PYTHONDONTWRITEBYTECODE: '1', ...env },
    timeout: 60_000,
  })
}

interface Scene {
  python: string
  tessera: TesseraProcess
  /** Offline verification only. */
  offline: PythonProcess
  /** Verification plus introspection with a service client. */
  live: PythonProcess
  /** Introspection with a wrong secret. */
  misconfigured: PythonProcess
  adminToken: string
  adminId: string
}

let workDir = ''
let tessera: TesseraProcess | null = null
let scene: Promise<Scene> | null = null

after(async () => {
  await Promise.all(children.map((child) => child.stop()))
  await tessera?.stop()
  if (workDir !== '') rmSync(workDir, { recursive: true, force: true })
})

/** Tessera with a bootstrap admin and a service client, and three Flask apps trusting it; built once. */
function setUpScene(python: string): Promise<Scene> {
  scene ??= (async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tessera-python-'))
    const passwordFile = join(workDir, 'admin-password')
    writeFileSync(passwordFile, adminPassword, { mode: 0o600 })
    const port = await findFreePort()
    tessera = await startTesseraProcess({
      TESSERA_PORT: String(port),
      TESSERA_DATA_DIR: join(workDir, 'data'),
      TESSERA_BOOTSTRAP_ADMIN_USERNAME: 'boss',
      TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: passwordFile,
    })
    const admin = await call(`${tessera.url}/v1/auth/login`, { body: { username: 'boss', password: adminPassword } })
    assert.equal(admin.status, 200, JSON.stringify(admin.json))
    const created = await call(`${tessera.url}/v1/admin/clients`, {
      token: admin.json.access_token,
      body: { name: 'flask-notes' },
    })
    assert.equal(created.status, 201, JSON.stringify(created.json))
    const trust = { TESSERA_URL: tessera.url }
    const [offline, live, misconfigured] = await Promise.all([
      startFlask(python, trust),
      startFlask(python, {
        ...trust,
        INTROSPECTION_CLIENT_ID: created.json.client_id,
        INTROSPECTION_CLIENT_SECRET: created.json.client_secret,
      }),
      startFlask(python, {
        ...trust,
        INTROSPECTION_CLIENT_ID: created.json.client_id,
        INTROSPECTION_CLIENT_SECRET: 'not-the-secret',
      }),
    ])
    return {
      python,
      tessera,
      offline,
      live,
      misconfigured,
      adminToken: admin.json.access_token,
      adminId: admin.json.user.id,
    }
  })()
  return scene
}

async function requireScene(t: TestContext): Promise<Scene | null> {
  const python = requirePython(t, pythonModules, pythonCheck)
  return python === null ? null : setUpScene(python)
}

let userCount = 0
async function signUp(
  scene: Scene,
): Promise<{ username: string; id: string; access_token: string; refresh_token: string; session_id: string }> {
  userCount += 1
  const username = `reader${userCount}_${process.pid}`
  const registered = await call(`${scene.tessera.url}/v1/auth/register`, { body: { username, password } })
  assert.equal(registered.status, 201, JSON.stringify(registered.json))
  const signedIn = await call(`${scene.tessera.url}/v1/auth/login`, { body: { username, password } })
  return { username, id: registered.json.id, ...signedIn.json }
}

function assertRefused(answer: HttpAnswer, status: number, code: string, what: string): void {
  assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.json)}`)
  assert.equal(answer.json?.code, code, what)
  assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/, what)
}

describe('the Python client against a live Tessera', { timeout: 120_000 }, () => {
  it('registers, signs in, calls a protected route, refreshes (also when the access token was refused) and signs out', async (t) => {
    const scene = await requireScene(t)
    if (scene === null) return
    const driver = `
import json, sys
import requests
import client
username, password = sys.argv[1], sys.argv[2]
out = {"registered": client.register(username, password), "registered_again": client.register(username, password)}
out["wrong_password"] = client.login(username, password + "!")
tokens = client.login(username, password)
me = client.get_protected(tokens, f"{client.BASE_URL}/v1/me")
out["me"] = [me.status_code, me.json()["user"]["username"], me.json()["session_id"] == tokens["session_id"]]
first = dict(tokens)
out["refreshed"] = client.refresh(tokens)
out["rotated"] = tokens["refresh_token"] != first["refresh_token"] and tokens["access_token"] != first["access_token"]
tokens["access_token"] = "not.a.token"
out["after_refused_token"] = client.get_protected(tokens, f"{client.BASE_URL}/v1/me").status_code
out["logged_out"] = client.logout(tokens)
after = requests.get(f"{client.BASE_URL}/v1/me", headers=client.bearer(tokens), timeout=5)
out["after_logout"] = [after.status_code, client.problem_code(after)]
out["refresh_after_logout"] = client.refresh(tokens)
print(json.dumps(out))
`
    const username = `pyclient_${process.pid}`
    const { stdout } = await runPython(scene.python, ['-c', driver, username, password], {
      TESSERA_URL: scene.tessera.url,
    })
    assert.deepEqual(JSON.parse(stdout), {
      registered: true,
      registered_again: false,
      wrong_password: null,
      me: [200, username, true],
      refreshed: true,
      rotated: true,
      after_refused_token: 200,
      logged_out: true,
      after_logout: [401, 'invalid_token'],
      refresh_after_logout: false,
    })
  })

  it('client.py runs the tutorial flow as a program, through the Flask app too, and prints no token', async (t) => {
    const scene = await requireScene(t)
    if (scene === null) return
    const { stdout } = await runPython(scene.python, ['client.py', `pyprogram_${process.pid}`], {
      TESSERA_URL: scene.tessera.url,
      TESSERA_PASSWORD: password,
      RESOURCE_URL: `${scene.offline.url}/protected`,
    })
    assert.match(stdout, /=== Registering ===\nCreated/)
    assert.match(stdout, /200: pyprogram_\d+ with roles \['user'\]/)
    assert.match(stdout, /200: \{.*'message': 'You are viewing protected content, [0-9a-f-]+!'/)
    assert.match(stdout, /New tokens \(the old refresh token is spent\)\nStill signed in: 200/)
    assert.match(stdout, /Signed out\nThe old access token now gets 401 \(invalid_token\)/)
    assert.doesNotMatch(stdout, /eyJ|refresh_token|access_token/)
  })
})

describe('the Flask resource server against a live Tessera', { timeout: 120_000 }, () => {
  it('lets a signed-in user in, says who they are, and refuses a missing, malformed or tampered token', async (t) => {
    const scene = await requireScene(t)
    if (scene === null) return
    const user = await signUp(scene)
    const protectedUrl = `${scene.offline.url}/protected`
    const answer = await call(protectedUrl, { token: user.access_token })
    assert.equal(answer.status, 200)
    assert.deepEqual(
      [answer.json.user_id, answer.json.session_id, answer.json.roles],
      [user.id, user.session_id, ['user']],
    )
    assert.equal((await call(`${scene.offline.url}/health`)).status, 200)

    const missing = await call(protectedUrl)
    assertRefused(missing, 401, 'missing_token', 'no token')
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer')
    for (const [what, headers] of [
      ['garbage', { authorization: 'Bearer not-a-token' }],
      ['another scheme', { authorization: `Basic ${user.access_token}` }],
      ['two tokens', { authorization: `Bearer ${user.access_token} ${user.access_token}` }],
    ] as const) {
      const refused = await call(protectedUrl, { headers })
      assertRefused(refused, 401, 'invalid_token', what)
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="invalid_token"', what)
    }
    const [header = '', payload = '', signature = ''] = user.access_token.split('.')
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const promoted = Buffer.from(JSON.stringify({ ...claims, roles: ['admin', 'user'] })).toString('base64url')
    assertRefused(
      await call(`${scene.offline.url}/admin`, { token: `${header}.${promoted}.${signature}` }),
      401,
      'invalid_token',
      'payload changed',
    )
    // A token in the query string is never read.
    assertRefused(
      await call(`${protectedUrl}?access_token=${user.access_token}`),
      401,
      'missing_token',
      'token in the URL',
    )
  })

  it('keeps each user to their own notes', async (t) => {
    const scene = await requireScene(t)
    if (scene === null) return
    const [first, second] = [await signUp(scene), await signUp(scene)]
    const notesUrl = `${scene.offline.url}/notes`
    assert.deepEqual((await call(notesUrl, { token: first.access_token, body: { text: 'level 3 done' } })).json, {
      notes: ['level 3 done'],
    })
    assert.deepEqual((await call(notesUrl, { token: second.access_token })).json, { notes: [] })
    assert.equal((await call(notesUrl, { token: second.access_token, body: ['not', 'an', 'object'] })).status, 400)
    assert.deepEqual((await call(notesUrl, { token: first.access_token })).json, { notes: ['level 3 done'] })
  })

  it('@admin_required lets admins in and answers 403 to everyone else, as the tutorials do', async (t) => {
    const scene = await requireScene(t)
    if (scene === null) return
    const user = await signUp(scene)
    const refused = await call(`${scene.offline.url}/admin`, { token: user.access_token })
    assertRefused(refused, 403, 'insufficient_role', 'a user at /admin')
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="insufficient_scope"')
    const admitted = await call(`${scene.offline.url}/admin`, { token: scene.adminToken })
    assert.equal(admitted.status, 200)
    assert.match(admitted.json.message, /^Welcome to the admin panel, /)
  })

  it('with introspection, a logout and a role change apply on the next request; offline, only at expiry', async (t) => {
    const scene = await requireScene(t)
    if (scene === null) return
    const user = await signUp(scene)
    assert.equal((await call(`${scene.live.url}/protected`, { token: user.access_token })).status, 200)
    assert.equal(
      (await call(`${scene.tessera.url}/v1/auth/logout`, { method: 'POST', token: user.access_token })).status,
      204,
    )
    assertRefused(
      await call(`${scene.live.url}/protected`, { token: user.access_token }),
      401,
      'invalid_token',
      'after logout, live',
    )
    // The documented limit of offline verification: the token is good until it expires.
    assert.equal((await call(`${scene.offline.url}/protected`, { token: user.access_token })).status, 200)

    // An admin demoted: the live app sees the current roles at once.
    const deputy = await signUp(scene)
    const setRoles = (roles: string[]) =>
      call(`${scene.tessera.url}/v1/admin/users/${deputy.id}/roles`, {
        method: 'PUT',
        token: scene.adminToken,
        body: { roles },
      })
    assert.equal((await setRoles(['admin', 'user'])).status, 200)
    const deputyToken = (
      await call(`${scene.tessera.url}/v1/auth/login`, { body: { username: deputy.username, password } })
    ).json.access_token
    assert.equal((await call(`${scene.live.url}/admin`, { token: deputyToken })).status, 200)
    assert.equal((await setRoles(['user'])).status, 200)
    assertRefused(
      await call(`${scene.live.url}/admin`, { token: deputyToken }),
      403,
      'insufficient_role',
      'demoted, live',
    )
  })

  it('fails closed with 503 when introspection is refused, and never lets the token in', async (t) => {
    const scene = await requireScene(t)
    if (scene === null) return
    const user = await signUp(scene)
    assertRefused(
      await call(`${scene.misconfigured.url}/protected`, { token: user.access_token }),
      503,
      'unavailable',
      'wrong client secret',
    )
    assert.doesNotMatch(scene.misconfigured.output(), /not-the-secret/)
  })
})

/** An issuer of the test's own: a JWKS with an Ed25519, a P-256 and an RSA key, and a fetch counter. */
async function startFakeIssuer(t: TestContext) {
  const keys = {
    EdDSA: await generateKeyPair('EdDSA', { extractable: true }),
    ES256: await generateKeyPair('ES256', { extractable: true }),
    RS256: await generateKeyPair('RS256', { extractable: true }),
  }
  const jwks = {
    keys: await Promise.all(
      Object.entries(keys).map(async ([alg, pair]) => ({
        ...(await exportJWK(pair.publicKey)),
        kid: `${alg}-key`,
        alg,
        use: 'sig',
      })),
    ),
  }
  const fetches: string[] = []
  const server: Server = createServer((request, response) => {
    fetches.push(request.url ?? '')
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const address = server.address()
  const issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const nowSeconds = () => Math.floor(Date.now() / 1000)
  const baseClaims = (): JWTPayload => ({
    iss: issuer,
    aud: issuer,
    sub: 'user-1',
    sid: 'session-1',
    client_id: 'tessera',
    jti: 'token-1',
    roles: ['user'],
    iat: nowSeconds(),
    exp: nowSeconds() + 300,
  })
  const sign = (
    claims: JWTPayload,
    header: Record<string, unknown> = {},
    alg: keyof typeof keys = 'EdDSA',
    key: CryptoKey = keys[alg].privateKey,
  ) => new SignJWT(claims).setProtectedHeader({ alg, kid: `${alg}-key`, typ: 'at+jwt', ...header }).sign(key)
  return { issuer, jwks, fetches, baseClaims, sign, keys }
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** Signs any header with an Ed25519 key, bypassing jose, which will not sign an unknown `crit`. */
async function signRawEdDSA(
  privateKey: CryptoKey,
  header: Record<string, unknown>,
  payloadPart: string,
): Promise<string> {
  const signingInput = `${encodeSegment(header)}.${payloadPart}`
  const signature = await crypto.subtle.sign({ name: 'Ed25519' }, privateKey, new TextEncoder().encode(signingInput))
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`
}

describe('the Flask decorator against hostile tokens', { timeout: 120_000 }, () => {
  it('refuses every token that breaks one rule, accepts the controls, and never follows a jku', async (t) => {
    const python = requirePython(t, pythonModules, pythonCheck)
    if (python === null) return
    const fake = await startFakeIssuer(t)
    const flask = await startFlask(python, { TESSERA_URL: fake.issuer })
    const attacker = await startFakeIssuer(t)
    const claims = fake.baseClaims()
    const without = (name: string) =>
      Object.fromEntries(Object.entries(fake.baseClaims()).filter(([claim]) => claim !== name))
    const genuine = await fake.sign(claims)
    const [header = '', payload = '', signature = ''] = genuine.split('.')
    const hmac = (secret: string) => {
      const forged = encodeSegment({ alg: 'HS256', kid: 'EdDSA-key', typ: 'at+jwt' })
      return `${forged}.${payload}.${createHmac('sha256', secret).update(`${forged}.${payload}`).digest('base64url')}`
    }
    const now = Math.floor(Date.now() / 1000)

    assert.equal((await call(`${flask.url}/protected`, { token: genuine })).status, 200, 'control: EdDSA')
    assert.equal(
      (await call(`${flask.url}/protected`, { token: await fake.sign(claims, {}, 'ES256') })).status,
      200,
      'control: ES256',
    )
    const hostile: Array<[string, string]> = [
      ['RS256, published but not allowed', await fake.sign(claims, {}, 'RS256')],
      ['alg none', `${encodeSegment({ alg: 'none', kid: 'EdDSA-key', typ: 'at+jwt' })}.${payload}.`],
      ['HS256 keyed with the public JWK', hmac(JSON.stringify(fake.jwks.keys[0]))],
      [
        'HS256 keyed with the raw public key',
        hmac(Buffer.from(String(fake.jwks.keys[0]?.x), 'base64url').toString('latin1')),
      ],
      [
        'ES256 label on the EdDSA key',
        `${encodeSegment({ alg: 'ES256', kid: 'EdDSA-key', typ: 'at+jwt' })}.${payload}.${signature}`,
      ],
      ['EdDSA signature under the ES256 kid', await fake.sign(claims, { kid: 'ES256-key' })],
      ['typ JWT', await fake.sign(claims, { typ: 'JWT' })],
      ['no typ', await fake.sign(claims, { typ: undefined })],
      ['no kid', await fake.sign(claims, { kid: undefined })],
      ['unknown kid', await fake.sign(claims, { kid: 'no-such-key' })],
      ['another key under the real kid', await fake.sign(claims, {}, 'EdDSA', attacker.keys.EdDSA.privateKey)],
      [
        'jku to the attacker',
        await fake.sign(
          claims,
          { kid: 'EdDSA-key', jku: `${attacker.issuer}/jwks.json` },
          'EdDSA',
          attacker.keys.EdDSA.privateKey,
        ),
      ],
      [
        'unknown crit, signed by the real key',
        await signRawEdDSA(
          fake.keys.EdDSA.privateKey,
          { alg: 'EdDSA', kid: 'EdDSA-key', typ: 'at+jwt', crit: ['urn:example:must'], 'urn:example:must': true },
          payload,
        ),
      ],
      ['wrong issuer', await fake.sign({ ...claims, iss: 'https://evil.example' })],
      ['wrong audience', await fake.sign({ ...claims, aud: 'https://other.example' })],
      ['expired', await fake.sign({ ...claims, iat: now - 600, exp: now - 300 })],
      ['issued in the future', await fake.sign({ ...claims, iat: now + 600, exp: now + 900 })],
      ['older than 15 minutes', await fake.sign({ ...claims, iat: now - 2000, exp: now + 300 })],
      ['no exp', await fake.sign(without('exp'))],
      ['no iat', await fake.sign(without('iat'))],
      ['no sub', await fake.sign(without('sub'))],
      ['no sid', await fake.sign(without('sid'))],
      ['no client_id', await fake.sign(without('client_id'))],
      ['no jti', await fake.sign(without('jti'))],
      ['roles not a list', await fake.sign({ ...claims, roles: 'admin' })],
      ['payload changed', `${header}.${encodeSegment({ ...claims, roles: ['admin'] })}.${signature}`],
      ['signature cut', genuine.slice(0, -4)],
      ['too long', `${header}.${payload}${'A'.repeat(9000)}.${signature}`],
    ]
    const rawControl = await signRawEdDSA(
      fake.keys.EdDSA.privateKey,
      { alg: 'EdDSA', kid: 'EdDSA-key', typ: 'at+jwt' },
      payload,
    )
    assert.equal((await call(`${flask.url}/protected`, { token: rawControl })).status, 200, 'control: raw signing')
    for (const [what, token] of hostile)
      assertRefused(await call(`${flask.url}/admin`, { token }), 401, 'invalid_token', what)
    assert.deepEqual(attacker.fetches, [], 'the jku was never fetched')

    // A flood of invented kids costs the issuer at most one extra fetch per cool-down.
    const fetchesBefore = fake.fetches.length
    for (let index = 0; index < 20; index += 1) {
      assertRefused(
        await call(`${flask.url}/protected`, { token: await fake.sign(claims, { kid: `invented-${index}` }) }),
        401,
        'invalid_token',
        'invented kid',
      )
    }
    assert.ok(
      fake.fetches.length - fetchesBefore <= 1,
      `${fake.fetches.length - fetchesBefore} fetches for 20 invented kids`,
    )
    assert.equal(
      (await call(`${flask.url}/protected`, { token: genuine })).status,
      200,
      'the genuine token still works',
    )
  })

  it('answers 503 when the key set cannot be fetched, never 200 or 401', async (t) => {
    const python = requirePython(t, pythonModules, pythonCheck)
    if (python === null) return
    const fake = await startFakeIssuer(t)
    const closedPort = await findFreePort()
    const flask = await startFlask(python, {
      TESSERA_URL: fake.issuer,
      TESSERA_JWKS_URL: `http://127.0.0.1:${closedPort}/jwks.json`,
    })
    assertRefused(
      await call(`${flask.url}/protected`, { token: await fake.sign(fake.baseClaims()) }),
      503,
      'unavailable',
      'JWKS down',
    )
  })

  it('refuses to start with an algorithm outside EdDSA, ES256 and RS256', async (t) => {
    const python = requirePython(t, pythonModules, pythonCheck)
    if (python === null) return
    await assert.rejects(
      startFlask(python, { TESSERA_URL: 'http://127.0.0.1:1', TESSERA_ALGORITHMS: 'EdDSA,HS256' }),
      /algorithms must be some of EdDSA, ES256, RS256/,
    )
  })
})

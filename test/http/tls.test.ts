import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { ConfigError, loadConfig } from '../../src/config/load.ts'
import { startServer } from '../../src/main.ts'
import { startTestServer, strongPassword, uniqueUsername } from '../helpers/test-server.ts'
import { cleanProcessEnv } from '../helpers/tessera-process.ts'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A self-signed certificate for 127.0.0.1, made with openssl for this test only. */
function createCertificate(t: TestContext): { dir: string; certFile: string; keyFile: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  return { dir, certFile, keyFile, cert: readFileSync(certFile, 'utf8') }
}

function send(url: string, options: { method?: string; body?: unknown; ca?: string } = {}): Promise<Answer> {
  const target = new URL(url)
  const body = options.body === undefined ? undefined : JSON.stringify(options.body)
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(options.ca ? { ca: options.ca } : {}),
        timeout: 5000,
      },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }))
      },
    )
    outgoing.on('timeout', () => outgoing.destroy(new Error('timed out')))
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

describe('HTTPS', () => {
  it('serves TLS itself when given a certificate, with HSTS and the usual headers', async (t) => {
    const { dir, certFile, keyFile, cert } = createCertificate(t)
    const config = loadConfig({
      TESSERA_PORT: '0',
      TESSERA_LOG_LEVEL: 'silent',
      TESSERA_DATA_DIR: join(dir, 'data'),
      TESSERA_TLS_CERT: certFile,
      TESSERA_TLS_KEY: keyFile,
    })
    const server = await startServer(config)
    t.after(() => server.close())
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)

    const health = await send(`${server.url}/healthz`, { ca: cert })
    assert.equal(health.status, 200)
    assert.equal(health.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
    assert.equal(health.headers['x-content-type-options'], 'nosniff')
    const username = uniqueUsername()
    assert.equal(
      (await send(`${server.url}/v1/auth/register`, { ca: cert, body: { username, password: strongPassword } })).status,
      201,
    )
    const login = await send(`${server.url}/v1/auth/login`, { ca: cert, body: { username, password: strongPassword } })
    assert.equal(login.status, 200)
    assert.equal(login.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
    const missing = await send(`${server.url}/v1/nothing`, { ca: cert })
    assert.equal(missing.status, 404)
    assert.ok(missing.headers['strict-transport-security'])

    // Plain HTTP to the TLS port is refused, never redirected or served.
    await assert.rejects(send(server.url.replace('https:', 'http:') + '/healthz'))
    // A client that does not trust the certificate gets no answer at all.
    await assert.rejects(send(`${server.url}/healthz`))
  })

  it('sends HSTS when TLS ends at a proxy in front (an https public URL), and not on plain HTTP', async (t) => {
    const proxied = await startTestServer(t, { TESSERA_PUBLIC_URL: 'https://auth.example' })
    assert.equal(
      (await proxied.request('/healthz')).headers.get('strict-transport-security'),
      'max-age=31536000; includeSubDomains',
    )
    const plain = await startTestServer(t)
    assert.equal((await plain.request('/healthz')).headers.get('strict-transport-security'), null)
  })
})

describe('transport settings', () => {
  function problemsOf(env: Record<string, string>): string[] {
    try {
      loadConfig(env)
      return []
    } catch (error) {
      if (error instanceof ConfigError) return error.problems
      throw error
    }
  }

  it('refuses to serve cookies over plain HTTP on a non-loopback address', () => {
    const metrics = { TESSERA_METRICS_TOKEN: 'scrape-token-for-tests' }
    const problems = problemsOf({ TESSERA_HOST: '0.0.0.0', ...metrics })
    assert.equal(problems.length, 1)
    assert.match(problems[0] ?? '', /^TESSERA_HOST: .*plain HTTP/)
    assert.deepEqual(problemsOf({ TESSERA_HOST: '::', ...metrics }).length, 1)
  })

  it('starts on a non-loopback address when TLS is served, declared, or insecure cookies are allowed', (t) => {
    const { certFile, keyFile } = createCertificate(t)
    const metrics = { TESSERA_METRICS_TOKEN: 'scrape-token-for-tests' }
    assert.deepEqual(
      problemsOf({ TESSERA_HOST: '0.0.0.0', TESSERA_TLS_CERT: certFile, TESSERA_TLS_KEY: keyFile, ...metrics }),
      [],
    )
    assert.deepEqual(
      problemsOf({ TESSERA_HOST: '0.0.0.0', TESSERA_PUBLIC_URL: 'https://auth.example', ...metrics }),
      [],
    )
    assert.deepEqual(problemsOf({ TESSERA_HOST: '0.0.0.0', TESSERA_ALLOW_INSECURE_COOKIES: 'true', ...metrics }), [])
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', 'localhost'])
      assert.deepEqual(problemsOf({ TESSERA_HOST: host }), [], host)
  })

  // regression: #11 (item 2)
  it('refuses to serve open metrics on a non-loopback address, and starts there with a metrics token', () => {
    const https = { TESSERA_PUBLIC_URL: 'https://auth.example' }
    for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
      const problems = problemsOf({ TESSERA_HOST: host, ...https })
      assert.equal(problems.length, 1, host)
      assert.match(problems[0] ?? '', /^TESSERA_METRICS_TOKEN: required when TESSERA_HOST is not a loopback address/)
      assert.deepEqual(
        problemsOf({ TESSERA_HOST: host, TESSERA_METRICS_TOKEN: 'scrape-token-for-tests', ...https }),
        [],
        host,
      )
    }
    for (const host of ['127.0.0.1', '::1', 'localhost'])
      assert.deepEqual(problemsOf({ TESSERA_HOST: host, ...https }), [], host)
  })

  it('needs both TLS files, readable', (t) => {
    const { dir, certFile } = createCertificate(t)
    assert.match(problemsOf({ TESSERA_TLS_CERT: certFile })[0] ?? '', /^TESSERA_TLS_CERT: must be set together/)
    assert.match(
      problemsOf({ TESSERA_TLS_CERT: certFile, TESSERA_TLS_KEY: join(dir, 'missing.pem') })[0] ?? '',
      /^TESSERA_TLS_KEY: cannot read/,
    )
  })

  it('reads the trusted proxy hop count, off by default', () => {
    assert.equal(loadConfig({}).server.trustProxyHops, 0)
    assert.equal(loadConfig({ TESSERA_TRUST_PROXY: '2' }).server.trustProxyHops, 2)
    assert.match(problemsOf({ TESSERA_TRUST_PROXY: 'yes' })[0] ?? '', /^TESSERA_TRUST_PROXY/)
    assert.match(problemsOf({ TESSERA_TRUST_PROXY: '11' })[0] ?? '', /^TESSERA_TRUST_PROXY/)
  })

  it('builds the throttle settings from their settings and refuses a cap above 100', () => {
    const config = loadConfig({ TESSERA_THROTTLE_MAX_FAILURES: '50', TESSERA_THROTTLE_MAX_DELAY: '15m' })
    assert.equal(config.throttle.signIn.maxFailures, 50)
    assert.equal(config.throttle.signIn.account.maxDelaySeconds, 900)
    assert.match(problemsOf({ TESSERA_THROTTLE_MAX_FAILURES: '101' })[0] ?? '', /^TESSERA_THROTTLE_MAX_FAILURES/)
  })
})

describe('HTTPS without a public URL', () => {
  // regression: #11 — the issuer, the allowed origin and the log said http:// while serving TLS.
  it('defaults the issuer and the allowed origin to https, and logs an https address', async (t) => {
    const { dir, certFile, keyFile, cert } = createCertificate(t)
    const env = { TESSERA_HOST: '127.0.0.1', TESSERA_PORT: '0', TESSERA_TLS_CERT: certFile, TESSERA_TLS_KEY: keyFile }
    const config = loadConfig({ ...env, TESSERA_DATA_DIR: join(dir, 'data'), TESSERA_LOG_LEVEL: 'silent' })
    assert.equal(config.tokens.issuer, 'https://127.0.0.1:0')
    assert.deepEqual(config.server.allowedOrigins, ['https://127.0.0.1:0'])
    assert.equal(loadConfig({ TESSERA_PORT: '8080' }).tokens.issuer, 'http://127.0.0.1:8080')

    const child = spawn(process.execPath, ['src/main.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: cleanProcessEnv({ ...env, TESSERA_DATA_DIR: join(dir, 'served') }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    t.after(() => child.kill('SIGKILL'))
    let output = ''
    const listening = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk
        const match = /Server listening at (\S+?)"/.exec(output)
        if (match?.[1]) resolve(match[1])
      })
      child.once('exit', () => reject(new Error(`exited early:\n${output}`)))
    })
    assert.match(listening, /^https:\/\/127\.0\.0\.1:\d+$/)
    assert.equal((await send(`${listening}/healthz`, { ca: cert })).status, 200)
  })
})

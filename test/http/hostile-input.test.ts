import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sendRaw, type RawAnswer } from '../helpers/raw-http.ts'
import { registerUser, startTestServer, strongPassword } from '../helpers/test-server.ts'

function problemOf(text: string): { code?: string; status?: number } {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4)
  try {
    return JSON.parse(body) as { code?: string; status?: number }
  } catch {
    return {}
  }
}

const loginBody = JSON.stringify({ username: 'someone', password: 'whatever it is, really' })

// One-second timeouts leave a wide margin on a loaded machine: the server checks its timeouts
// every 250 ms, so a healthy one answers between 1.0 and 1.3 s.
const shortTimeouts = { TESSERA_REQUEST_TIMEOUT: '1s', TESSERA_HEADERS_TIMEOUT: '1s' }

/**
 * `sendRaw`, and how long this process's event loop was busy meanwhile. The server runs on that
 * loop beside the other tests of this file, and no timer of it fires while the loop runs
 * something else (another test's server starting, a password hash): that time is not the
 * server's to account for.
 */
async function sendRawTimed(
  url: string,
  chunks: ReadonlyArray<string>,
  options: { pauseMs?: number; timeoutMs: number },
): Promise<RawAnswer & { busyMs: number }> {
  const before = performance.eventLoopUtilization()
  const answer = await sendRaw(url, chunks, options)
  return { ...answer, busyMs: performance.eventLoopUtilization(before).active }
}

/** The connection ended because of the 1 s timeout: not before it, and not long after. */
function assertEndedByTimeout(answer: RawAnswer & { busyMs: number }): void {
  const { elapsedMs, busyMs } = answer
  assert.ok(elapsedMs >= 900, `${elapsedMs} ms`)
  assert.ok(elapsedMs - busyMs < 3500, `${elapsedMs} ms, of which the event loop was busy ${busyMs} ms`)
}

// Independent servers; run side by side so the timeout tests wait together.
describe('hostile HTTP', { concurrency: true }, () => {
  it('answers oversized headers with 431 problem+json', async (t) => {
    const server = await startTestServer(t)
    for (const header of [`Cookie: a=${'x'.repeat(20_000)}`, `Authorization: Bearer ${'x'.repeat(20_000)}`]) {
      const answer = await sendRaw(server.url, [`GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n${header}\r\n\r\n`])
      assert.equal(answer.status, 431)
      assert.match(answer.text, /content-type: application\/problem\+json/i)
      assert.match(answer.text, /x-content-type-options: nosniff/i)
      assert.equal(problemOf(answer.text).code, 'headers_too_large')
    }
    assert.equal((await server.request('/healthz')).status, 200)
  })

  it('answers a body that stalls short of its Content-Length with 408 soon after the request timeout', async (t) => {
    const server = await startTestServer(t, shortTimeouts)
    const head = `POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${loginBody.length + 10}\r\n\r\n`
    const answer = await sendRawTimed(server.url, [head + loginBody], { timeoutMs: 6000 })
    assert.equal(answer.status, 408)
    assert.equal(problemOf(answer.text).code, 'request_timeout')
    assertEndedByTimeout(answer)
  })

  it('answers a connection that sends nothing with 408 soon after the header timeout', async (t) => {
    const server = await startTestServer(t, shortTimeouts)
    const answer = await sendRawTimed(server.url, [], { timeoutMs: 8000 })
    assert.equal(answer.status, 408)
    assertEndedByTimeout(answer)
  })

  it('closes a connection whose headers trickle in, within the header timeout', async (t) => {
    const server = await startTestServer(t, shortTimeouts)
    const bytes = [...'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n']
    const answer = await sendRawTimed(server.url, bytes, { pauseMs: 200, timeoutMs: 8000 })
    assert.ok(answer.status === 408 || answer.status === 0, `status ${answer.status}`)
    assertEndedByTimeout(answer)
  })

  it('refuses ambiguous framing (request smuggling) with 400', async (t) => {
    const server = await startTestServer(t)
    const framings = [
      `Content-Length: ${loginBody.length}\r\nTransfer-Encoding: chunked`,
      `Content-Length: ${loginBody.length}\r\nContent-Length: ${loginBody.length + 1}`,
      'Transfer-Encoding: chunked, identity',
      'Transfer-Encoding: identity',
      `Content-Length: -${loginBody.length}`,
      `Content-Length: ${loginBody.length}, ${loginBody.length}`,
    ]
    for (const framing of framings) {
      const answer = await sendRaw(server.url, [
        `POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${framing}\r\n\r\n${loginBody}`,
      ])
      assert.ok(answer.status === 400 || answer.status === 501, `${framing}: ${answer.status}`)
      assert.doesNotMatch(answer.text, /"access_token"/)
    }
    assert.equal((await server.request('/healthz')).status, 200)
  })

  it('serves only documented methods and never echoes a TRACE', async (t) => {
    const server = await startTestServer(t)
    const trace = await sendRaw(server.url, [
      'TRACE /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Echo-Me: secret-marker\r\n\r\n',
    ])
    assert.ok([400, 404, 405].includes(trace.status), `${trace.status}`)
    assert.doesNotMatch(trace.text, /secret-marker/)
    const unknown = await sendRaw(server.url, ['FOO /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'])
    assert.ok([400, 405].includes(unknown.status), `${unknown.status}`)
  })

  it('never takes URLs or the issuer from Host or X-Forwarded-Host', async (t) => {
    const server = await startTestServer(t)
    const { username } = await registerUser(server)
    const evil = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }
    const login = await server.request('/v1/auth/login', {
      body: { username, password: strongPassword },
      headers: evil,
    })
    assert.equal(login.status, 200)
    const payload = JSON.parse(Buffer.from(login.json.access_token.split('.')[1], 'base64url').toString('utf8'))
    assert.equal(payload.iss, server.config.tokens.issuer)
    for (const path of ['/.well-known/jwks.json', '/openapi.json', '/v1/nothing']) {
      const response = await server.request(path, { headers: evil })
      assert.doesNotMatch(response.text, /evil\.example/, path)
    }
  })
})

/**
 * The edges of the HTTP layer: answers the router gives before any route runs, bodies sent
 * where nothing takes one, and errors that must say what to do without quoting the input.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sendRaw } from '../helpers/raw-http.ts'
import { startTestServer } from '../helpers/test-server.ts'

const securityHeaders = ['x-content-type-options', 'content-security-policy', 'referrer-policy', 'cache-control']

function assertProblem(
  response: { status: number; headers: Headers; text: string; json: any },
  status: number,
  name: string,
): void {
  assert.equal(response.status, status, name)
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, name)
  assert.equal(response.json.status, status, name)
  for (const header of securityHeaders) assert.ok(response.headers.has(header), `${name}: ${header}`)
  assert.doesNotMatch(response.text, /FST_/, name)
}

describe('the edges of the HTTP layer', () => {
  it('answers an over-long path parameter or a broken percent-encoding with a problem that does not echo the path', async (t) => {
    const server = await startTestServer(t)
    const marker = 'echoed'.repeat(60)
    for (const [name, path] of [
      ['over-long parameter', `/v1/sessions/${marker}`],
      ['bad percent-encoding', `/v1/sessions/${marker.slice(0, 20)}%zz`],
      ['over-long admin parameter', `/v1/admin/users/${marker}/roles`],
    ] as const) {
      const response = await server.request(path, { method: 'DELETE' })
      assertProblem(response, 404, name)
      assert.equal(response.json.code, 'not_found', name)
      assert.doesNotMatch(response.text, /echoed/, name)
    }
  })

  it('answers an unknown address with 404 before reading the body it announces', async (t) => {
    const server = await startTestServer(t)
    // 1. The body is announced and never sent: a server waiting for it would answer 408.
    const headersOnly = await sendRaw(server.url, [
      'POST /v1/not-a-route HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n',
    ])
    assert.equal(headersOnly.status, 404, headersOnly.text)
    assert.match(headersOnly.text, /\r\nconnection: close\r\n/i)
    assert.match(headersOnly.text, /"code":"not_found"/)
    // 2. A malformed or oversized body there is never parsed either: 404, not 400 or 413.
    for (const rawBody of ['{broken', 'x'.repeat(2 * 1024 * 1024)]) {
      const response = await server.request('/v1/not-a-route', {
        rawBody,
        headers: { 'content-type': 'application/json' },
      })
      assertProblem(response, 404, `${rawBody.length} bytes`)
    }
    // 3. The same for a known address with a method it does not take (405).
    const wrongMethod = await sendRaw(server.url, [
      'PUT /v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n',
    ])
    assert.equal(wrongMethod.status, 405, wrongMethod.text)
    assert.match(wrongMethod.text, /\r\nallow: POST\r\n/i)
  })

  it('a 415 names the content type the endpoint takes', async (t) => {
    const server = await startTestServer(t)
    const json = await server.request('/v1/auth/login', {
      rawBody: 'username=a',
      headers: { 'content-type': 'text/plain' },
    })
    assertProblem(json, 415, 'JSON route')
    assert.match(json.json.detail, /application\/json/)
    const form = await server.request('/v1/oauth/revoke', {
      rawBody: '{"token":"x"}',
      headers: { 'content-type': 'application/json' },
    })
    assertProblem(form, 415, 'form route')
    assert.match(form.json.detail, /application\/x-www-form-urlencoded/)
    const charset = await server.request('/v1/auth/login', {
      rawBody: '{}',
      headers: { 'content-type': 'application/json; charset=latin1' },
    })
    assertProblem(charset, 415, 'charset')
    assert.match(charset.json.detail, /application\/json in UTF-8/)
  })

  it('malformed JSON says where it breaks, without quoting the body', async (t) => {
    const server = await startTestServer(t)
    const cases: Array<[string, string, { line: number; column: number; position: number }]> = [
      // V8 gives no position for an unexpected token, and quotes the text around it.
      ['an unquoted value', '{"username": "abc", "password": secret-hunter2}', { line: 1, column: 33, position: 32 }],
      [
        'a trailing comma',
        '{"username": "abc",\n "password": "secret-hunter2",\n}',
        { line: 3, column: 1, position: 51 },
      ],
      ['a truncated body', '{"username": "abc", "password": "secret-hunter2', { line: 1, column: 48, position: 47 }],
      ['a bare word', 'secret-hunter2', { line: 1, column: 1, position: 0 }],
    ]
    for (const [name, rawBody, place] of cases) {
      const response = await server.request('/v1/auth/login', {
        rawBody,
        headers: { 'content-type': 'application/json' },
      })
      assertProblem(response, 400, name)
      assert.equal(response.json.code, 'validation_failed', name)
      assert.deepEqual(
        { line: response.json.line, column: response.json.column, position: response.json.position },
        place,
        name,
      )
      assert.match(response.json.detail, new RegExp(`line ${place.line}, column ${place.column}`), name)
      assert.doesNotMatch(response.text, /hunter2|secret/, name)
    }
    // Prototype keys in valid JSON are refused as before, with no place to point at.
    const poisoned = await server.request('/v1/auth/login', {
      rawBody: '{"__proto__":{"x":1}}',
      headers: { 'content-type': 'application/json' },
    })
    assertProblem(poisoned, 400, 'prototype key')
    assert.equal(poisoned.json.position, undefined)
  })
})

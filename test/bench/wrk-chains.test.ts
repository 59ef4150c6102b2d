/**
 * The refresh chains of the benchmark (bench/wrk.ts), against a stand-in server that rotates
 * tokens as Tessera does (each token once; anything else is refused), so a lost token shows as
 * what it is: a dead chain asking with GET (405) for the rest of the run, not a server fault.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { findWrk, runWrk } from '../../bench/wrk.ts'

const connections = 4

async function readBody(request: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of request) body += String(chunk)
  return body
}

/** A server whose tokens work once each and whose answers carry the successor. */
async function startRotatingServer(t: TestContext, tokenCount: number) {
  const live = new Set(Array.from({ length: tokenCount }, (_, index) => `token-${index}`))
  let next = 0
  const server = createServer((request, response) => {
    if (request.method !== 'POST') {
      response.writeHead(405).end()
      return
    }
    void readBody(request).then((body) => {
      const presented = (JSON.parse(body) as { refresh_token?: string }).refresh_token ?? ''
      if (!live.delete(presented)) {
        response.writeHead(400).end()
        return
      }
      const successor = `successor-${(next += 1)}`
      live.add(successor)
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ access_token: 'a', refresh_token: successor }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const tokens = Array.from({ length: tokenCount }, (_, index) => `token-${index}`)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokens }
}

async function runChains(t: TestContext, tokenCount: number) {
  const { url, tokens } = await startRotatingServer(t, tokenCount)
  return runWrk(
    { url, pid: process.pid },
    { method: 'POST', path: '/v1/auth/refresh', headers: { 'content-type': 'application/json' } },
    { connections, durationSeconds: 1, warmupSeconds: 0 },
    { refreshTokens: tokens },
  )
}

describe('wrk refresh chains', { skip: findWrk() === null ? 'wrk is not installed' : false }, () => {
  it('with one spare token, every chain refreshes for the whole run and nothing is refused', async (t) => {
    const tally = await runChains(t, connections + 1)
    assert.ok((tally.statusCounts['200'] ?? 0) > connections)
    assert.deepEqual(Object.keys(tally.statusCounts), ['200'])
  })

  it('without the spare token, wrk spends one on checking its script and one chain asks with GET throughout', async (t) => {
    const tally = await runChains(t, connections)
    assert.ok((tally.statusCounts['405'] ?? 0) > 0)
    assert.equal(tally.statusCounts['400'], undefined)
  })
})

/** A server that accepts each of `bodies` once (a one-time ticket) and refuses any other. */
async function startOneUseServer(t: TestContext, bodies: readonly string[]) {
  const unused = new Set(bodies)
  const server = createServer((request, response) => {
    if (request.method !== 'POST') {
      response.writeHead(405).end()
      return
    }
    void readBody(request).then((body) => response.writeHead(unused.delete(body) ? 200 : 400).end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('wrk one-use bodies', { skip: findWrk() === null ? 'wrk is not installed' : false }, () => {
  it('sends each body once, the warm-up its own, and a GET once they are spent', async (t) => {
    const bodies = Array.from({ length: 20_500 }, (_, index) => `{"ticket":"ticket-${index}"}`)
    const url = await startOneUseServer(t, bodies)
    const tally = await runWrk(
      { url, pid: process.pid },
      { method: 'POST', path: '/v1/tickets/redeem', headers: { 'content-type': 'application/json' } },
      { connections, durationSeconds: 1, warmupSeconds: 1 },
      { warmupBodies: bodies.slice(0, 20_000), bodies: bodies.slice(20_000) },
    )
    // None twice (no 400), across warm-up and run; the run outlasts its 500 bodies (wrk spends
    // the first on checking its script) and then asks with GET.
    assert.equal(tally.statusCounts['400'], undefined)
    assert.equal(tally.statusCounts['200'], 499)
    assert.ok((tally.statusCounts['405'] ?? 0) > 0)
  })
})

/**
 * The request-limit hooks (src/http/plugins/request-limits.ts) sit on the listed routes only,
 * wherever those are registered (a plugin with a prefix included): a listed route counts each
 * request before its own checks and settles it when its answer is sent; any other route passes no
 * hook of the module. The limits themselves are tested over HTTP in throttling.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import type { RequestKind } from '../../src/core/application/types.ts'
import { registerRequestLimits } from '../../src/http/plugins/request-limits.ts'

function buildRecordingApp() {
  const steps: string[] = []
  const app = Fastify({ logger: false })
  registerRequestLimits(app, {
    async admitRequest(kind: RequestKind) {
      steps.push(`admit ${kind}`)
      return {
        async recordFailure() {
          steps.push(`failure ${kind}`)
        },
        async recordSuccess() {
          steps.push(`success ${kind}`)
        },
      }
    },
  })
  return { app, steps }
}

describe('request-limit hooks', () => {
  it('count a listed route before its own hooks, under a prefix too, and settle by the answer', async () => {
    const { app, steps } = buildRecordingApp()
    await app.register(
      async (auth) => {
        auth.post(
          '/register',
          {
            onRequest: (_request, _reply, done) => {
              steps.push('route check')
              done()
            },
          },
          async (request, reply) => reply.code(request.headers['x-fail'] === undefined ? 201 : 400).send({}),
        )
      },
      { prefix: '/v1/auth' },
    )
    await app.inject({ method: 'POST', url: '/v1/auth/register', payload: {} })
    await app.inject({ method: 'POST', url: '/v1/auth/register', payload: {}, headers: { 'x-fail': '1' } })
    assert.deepEqual(steps, [
      'admit registration',
      'route check',
      'success registration',
      'admit registration',
      'route check',
      'failure registration',
    ])
  })

  it('leave every other route alone, and a listed path under another method', async () => {
    const { app, steps } = buildRecordingApp()
    app.get('/healthz', async () => ({ status: 'ok' }))
    app.get('/v1/auth/register', async () => ({}))
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
    assert.equal((await app.inject({ method: 'GET', url: '/v1/auth/register' })).statusCode, 200)
    assert.deepEqual(steps, [])
  })
})

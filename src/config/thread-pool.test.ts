import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { reserveThreadPool } from './thread-pool.ts'

describe('reserveThreadPool()', () => {
  it('leaves two pool threads beyond the password hashes', () => {
    const env: Record<string, string | undefined> = {}
    assert.equal(reserveThreadPool(3, env), 5)
    assert.equal(env.UV_THREADPOOL_SIZE, '5')
  })

  it('keeps a larger pool that the operator configured', () => {
    const env: Record<string, string | undefined> = { UV_THREADPOOL_SIZE: '16' }
    assert.equal(reserveThreadPool(3, env), 16)
  })

  it('never goes below libuv\'s default of four', () => {
    const env: Record<string, string | undefined> = {}
    assert.equal(reserveThreadPool(1, env), 4)
  })
})

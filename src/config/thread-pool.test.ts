import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readdirSync, readFileSync } from 'node:fs'
import { lowerThreadPoolPriority, poolThreadNiceness, reserveThreadPool } from './thread-pool.ts'

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

  it("never goes below libuv's default of four", () => {
    const env: Record<string, string | undefined> = {}
    assert.equal(reserveThreadPool(1, env), 4)
  })
})

describe('lowerThreadPoolPriority()', () => {
  it('runs every libuv pool thread below the event loop', { skip: process.platform !== 'linux' }, async () => {
    const changed = await lowerThreadPoolPriority()
    const niceOf = (thread: string) =>
      Number(readFileSync(`/proc/self/task/${thread}/stat`, 'utf8').split(') ')[1]?.split(' ')[16])
    const pool = readdirSync('/proc/self/task').filter(
      (thread) => readFileSync(`/proc/self/task/${thread}/comm`, 'utf8').trim() === 'libuv-worker',
    )
    assert.ok(pool.length >= 4)
    assert.equal(changed, pool.length)
    for (const thread of pool) assert.equal(niceOf(thread), poolThreadNiceness)
    assert.equal(niceOf(String(process.pid)), 0)
  })
})

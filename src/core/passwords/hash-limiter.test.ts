import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { TesseraError } from '../errors.ts'
import { createHashLimiter } from './hash-limiter.ts'

interface Gate {
  promise: Promise<void>
  open(): void
}

function createGate(): Gate {
  const { promise, resolve } = Promise.withResolvers<void>()
  return { promise, open: () => resolve() }
}

function isServerBusy(error: unknown): boolean {
  return error instanceof TesseraError && error.code === 'server_busy'
}

describe('hash limiter', () => {
  it('run() never runs more jobs at once than the concurrency', async () => {
    const limiter = createHashLimiter({ concurrency: 2, maxQueue: 10 })
    const gates = Array.from({ length: 5 }, createGate)
    let running = 0
    let mostRunning = 0
    const started: number[] = []
    const results = gates.map((gate, index) =>
      limiter.run(async () => {
        running += 1
        mostRunning = Math.max(mostRunning, running)
        started.push(index)
        await gate.promise
        running -= 1
        return index
      }),
    )
    await nextTurn()
    assert.deepEqual(started, [0, 1])
    assert.deepEqual(limiter.load(), { running: 2, waiting: 3 })
    for (const gate of gates) {
      gate.open()
      await nextTurn()
    }
    assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4])
    assert.equal(mostRunning, 2)
    assert.deepEqual(started, [0, 1, 2, 3, 4])
    assert.deepEqual(limiter.load(), { running: 0, waiting: 0 })
  })

  it('run() throws server_busy when the queue is full', async () => {
    const limiter = createHashLimiter({ concurrency: 1, maxQueue: 1 })
    const gate = createGate()
    const first = limiter.run(() => gate.promise)
    const second = limiter.run(async () => 'second')
    await assert.rejects(
      limiter.run(async () => 'third'),
      isServerBusy,
    )
    gate.open()
    await first
    assert.equal(await second, 'second')
  })

  it('run() queues up to the limit without refusing', async () => {
    const limiter = createHashLimiter({ concurrency: 1, maxQueue: 2 })
    const gate = createGate()
    const jobs = [limiter.run(() => gate.promise), limiter.run(async () => 1), limiter.run(async () => 2)]
    assert.deepEqual(limiter.load(), { running: 1, waiting: 2 })
    gate.open()
    assert.deepEqual(await Promise.all(jobs), [undefined, 1, 2])
  })

  it('run() with a queue of 0 refuses as soon as every slot is busy', async () => {
    const limiter = createHashLimiter({ concurrency: 1, maxQueue: 0 })
    const gate = createGate()
    const first = limiter.run(() => gate.promise)
    await assert.rejects(
      limiter.run(async () => 'second'),
      isServerBusy,
    )
    gate.open()
    await first
    assert.equal(await limiter.run(async () => 'after'), 'after')
  })

  it('run() frees the slot of a job that fails', async () => {
    const limiter = createHashLimiter({ concurrency: 1, maxQueue: 0 })
    await assert.rejects(
      limiter.run(async () => Promise.reject(new Error('boom'))),
      /boom/,
    )
    assert.deepEqual(limiter.load(), { running: 0, waiting: 0 })
    assert.equal(await limiter.run(async () => 'next'), 'next')
  })

  it('createHashLimiter() refuses a concurrency that is not a positive integer', () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => createHashLimiter({ concurrency, maxQueue: 1 }), TypeError)
    }
    assert.doesNotThrow(() => createHashLimiter({ concurrency: 1, maxQueue: 1 }))
  })
})

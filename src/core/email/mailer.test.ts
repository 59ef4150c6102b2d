import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMailOutbox } from './mailer.ts'

function deferred() {
  let resolve: () => void = () => {}
  const promise = new Promise<void>((done) => {
    resolve = done
  })
  return { promise, resolve }
}

describe('mail outbox', () => {
  it('runs jobs after the caller, at most `concurrency` at once, and drops them beyond the queue', async () => {
    const failures: string[] = []
    const outbox = createMailOutbox({
      settings: { concurrency: 2, maxQueued: 3, jobTimeoutMs: 5000 },
      onJobFailed: (kind, reason) => void failures.push(`${kind}:${reason}`),
    })
    const gate = deferred()
    let running = 0
    let most = 0
    let started = 0
    const job = async () => {
      started += 1
      running += 1
      most = Math.max(most, running)
      await gate.promise
      running -= 1
    }
    const accepted = Array.from({ length: 5 }, (_, index) => outbox.enqueue(`job${index}`, job))
    assert.equal(started, 0, "nothing runs on the caller's turn")
    assert.deepEqual(accepted, [true, true, true, false, false])
    assert.deepEqual(failures, ['job3:dropped', 'job4:dropped'])
    await new Promise((resolve) => setImmediate(resolve))
    gate.resolve()
    await outbox.whenIdle()
    assert.equal(started, 3)
    assert.equal(most, 2)
  })

  it('gives up a job that outlives its time, and reports a failed one by kind', async () => {
    const failures: string[] = []
    const outbox = createMailOutbox({
      settings: { concurrency: 4, maxQueued: 10, jobTimeoutMs: 50 },
      onJobFailed: (kind, reason) => void failures.push(`${kind}:${reason}`),
    })
    outbox.enqueue('hangs', () => new Promise(() => {}))
    outbox.enqueue('throws', async () => {
      throw new Error('relay said no')
    })
    const started = performance.now()
    await outbox.whenIdle()
    assert.ok(performance.now() - started < 5000)
    assert.deepEqual(failures.sort(), ['hangs:timed_out', 'throws:failed'])
  })
})

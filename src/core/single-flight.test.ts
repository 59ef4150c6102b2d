import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { singleFlight } from './single-flight.ts'

describe('singleFlight', () => {
  it('shares a run still in progress, and starts a new one once it has ended', async () => {
    let started = 0
    let finish: (value: number) => void = () => {}
    const sweep = singleFlight(() => {
      started += 1
      return new Promise<number>((resolve) => {
        finish = resolve
      })
    })
    const first = sweep()
    const second = sweep()
    assert.equal(started, 1)
    finish(7)
    assert.deepEqual(await Promise.all([first, second]), [7, 7])
    const third = sweep()
    assert.equal(started, 2)
    finish(3)
    assert.equal(await third, 3)
  })

  it('starts again after a run that failed', async () => {
    let calls = 0
    const sweep = singleFlight(async () => {
      calls += 1
      if (calls === 1) throw new Error('store unreachable')
      return calls
    })
    await assert.rejects(sweep(), /store unreachable/)
    assert.equal(await sweep(), 2)
  })
})

/**
 * The InvalidationBus contract: every implementation must pass it. Two buses opened from one
 * fixture stand for two nodes of one deployment; what one publishes, the other's listeners hear
 * within a second (the promise of the multi-node checks), intact.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { Invalidation, InvalidationBus, InvalidationListener } from '../../core/invalidation/bus.ts'

export interface InvalidationBusFixture {
  /** A bus of one more node. */
  open(): Promise<InvalidationBus & { close(): Promise<void> }>
  close(): Promise<void>
}

const deliveryLimitMs = 1000

function createRecorder(): InvalidationListener & { received: Invalidation[] } {
  const received: Invalidation[] = []
  return { received, onInvalidation: (message) => void received.push(message), onReset: () => {} }
}

async function waitForMessages(recorder: { received: Invalidation[] }, count: number): Promise<void> {
  const deadline = Date.now() + deliveryLimitMs
  while (recorder.received.length < count) {
    if (Date.now() > deadline)
      assert.fail(`expected ${count} message(s) within ${deliveryLimitMs} ms, got ${recorder.received.length}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function openTwoNodes(t: TestContext, createFixture: () => Promise<InvalidationBusFixture>) {
  const fixture = await createFixture()
  const first = await fixture.open()
  const second = await fixture.open()
  t.after(async () => {
    await first.close()
    await second.close()
    await fixture.close()
  })
  return { first, second }
}

export function testInvalidationBus(createFixture: () => Promise<InvalidationBusFixture>): void {
  describe('InvalidationBus', () => {
    it('publish() reaches a listener of another node with every kind of message intact', async (t) => {
      const { first, second } = await openTwoNodes(t, createFixture)
      const recorder = createRecorder()
      second.subscribe(recorder)
      const messages: Invalidation[] = [
        { kind: 'session', sessionId: 'session-1' },
        { kind: 'user', userId: 'user-1' },
        { kind: 'signing-keys' },
      ]
      for (const message of messages) await first.publish(message)
      await waitForMessages(recorder, 3)
      // Order is not promised (a cluster may relay messages along different paths); every
      // message is idempotent, so only delivery matters.
      const sorted = (list: Invalidation[]) => list.map((message) => JSON.stringify(message)).sort()
      assert.deepEqual(sorted(recorder.received), sorted(messages))
    })

    it('publish() reaches every listener of the other node', async (t) => {
      const { first, second } = await openTwoNodes(t, createFixture)
      const recorders = [createRecorder(), createRecorder()]
      for (const recorder of recorders) second.subscribe(recorder)
      await first.publish({ kind: 'user', userId: 'user-2' })
      for (const recorder of recorders) await waitForMessages(recorder, 1)
    })

    it('subscribe() returns a function after which the listener hears nothing more', async (t) => {
      const { first, second } = await openTwoNodes(t, createFixture)
      const kept = createRecorder()
      const dropped = createRecorder()
      second.subscribe(kept)
      const unsubscribe = second.subscribe(dropped)
      unsubscribe()
      await first.publish({ kind: 'session', sessionId: 'session-2' })
      await waitForMessages(kept, 1)
      assert.deepEqual(dropped.received, [])
    })

    it('isConnected() is true while the bus works', async (t) => {
      const { first, second } = await openTwoNodes(t, createFixture)
      assert.equal(first.isConnected(), true)
      assert.equal(second.isConnected(), true)
    })

    it('a listener that throws does not stop delivery to the others', async (t) => {
      const { first, second } = await openTwoNodes(t, createFixture)
      second.subscribe({
        onInvalidation: () => {
          throw new Error('listener failure')
        },
        onReset: () => {},
      })
      const recorder = createRecorder()
      second.subscribe(recorder)
      await first.publish({ kind: 'signing-keys' })
      await waitForMessages(recorder, 1)
    })
  })
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { createLocalInvalidationBus, type Invalidation, type InvalidationBus } from '../invalidation/bus.ts'
import { createEventFeed, type StreamItem } from './event-feed.ts'
import type { StampedEvent } from './events.ts'

const settings = { replayWindowSeconds: 60, replayMaxEvents: 100 }
const ended = (sessionId: string) => ({
  type: 'session_ended' as const,
  userId: 'u',
  sessionId,
  reason: 'logout' as const,
})

/** A bus that hands messages to its listeners only when the test says so (another node's order). */
function createHeldBus(): InvalidationBus & { held: Invalidation[]; deliver(message: Invalidation): void } {
  const local = createLocalInvalidationBus()
  const held: Invalidation[] = []
  return {
    held,
    publish: async (message) => void held.push(message),
    subscribe: (listener) => local.subscribe(listener),
    isConnected: () => true,
    deliver: (message) => void local.publish(message),
  }
}

function sessionsOf(items: readonly StreamItem[]): string[] {
  return items.map((item) =>
    item.kind === 'event' && item.stamped.event.type === 'session_ended' ? item.stamped.event.sessionId : item.kind,
  )
}

describe('event feed', () => {
  it('follow() from now on sends new events only; a resumption sends what followed the last event', async () => {
    const clock = createManualClock()
    const feed = createEventFeed({ bus: createLocalInvalidationBus(), clock, settings })
    const seen: StreamItem[] = []
    const live = feed.follow(null, (item) => void seen.push(item))
    assert.deepEqual(live.backlog, [])
    await feed.publish(ended('a'))
    clock.advanceSeconds(5)
    await feed.publish(ended('b'))
    await feed.publish(ended('c'))
    assert.deepEqual(sessionsOf(seen), ['a', 'b', 'c'])
    const first = seen[0]?.kind === 'event' ? seen[0].stamped.id : ''
    assert.deepEqual(sessionsOf(feed.follow(first, () => {}).backlog), ['b', 'c'])
  })

  it("a resumption on a node that heard two nodes' events in another order misses none", async () => {
    const clock = createManualClock()
    const bus = createHeldBus()
    const nodeA = createEventFeed({ bus: createLocalInvalidationBus(), clock, settings })
    const nodeB = createEventFeed({ bus, clock, settings })
    const onA: StreamItem[] = []
    nodeA.follow(null, (item) => void onA.push(item))
    // e1 made on A, e2 made on B at nearly the same time; B's own event comes first on B.
    await nodeA.publish(ended('e1'))
    clock.advanceSeconds(0.1)
    await nodeB.publish(ended('e2'))
    const e1 = onA[0]?.kind === 'event' ? onA[0].stamped : null
    assert.ok(e1)
    bus.deliver({ kind: 'event', stamped: e1 as StampedEvent })
    // The client saw e1 on A and resumes on B: e2 is sent although B kept it before e1.
    assert.deepEqual(sessionsOf(nodeB.follow(e1.id, () => {}).backlog), ['e2'])
  })

  it('tells a client to resync past the window, for an id it cannot read, and when the bus lost messages', async () => {
    const clock = createManualClock()
    const bus = createLocalInvalidationBus()
    const feed = createEventFeed({ bus, clock, settings })
    const seen: StreamItem[] = []
    feed.follow(null, (item) => void seen.push(item))
    await feed.publish(ended('old'))
    const oldId = seen[0]?.kind === 'event' ? seen[0].stamped.id : ''
    clock.advanceSeconds(61)
    await feed.publish(ended('new'))
    assert.deepEqual(sessionsOf(feed.follow(oldId, () => {}).backlog), ['resync'])
    assert.deepEqual(sessionsOf(feed.follow('garbage', () => {}).backlog), ['resync'])
    const listeners: Array<() => void> = []
    const resetBus: InvalidationBus = {
      ...bus,
      subscribe: (listener) => (listeners.push(() => void listener.onReset()), () => {}),
    }
    const resetting = createEventFeed({ bus: resetBus, clock, settings })
    const told: StreamItem[] = []
    resetting.follow(null, (item) => void told.push(item))
    for (const reset of listeners) reset()
    assert.deepEqual(sessionsOf(told), ['resync'])
  })
})

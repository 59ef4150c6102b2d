/**
 * This node's feed of real-time events: the ones it makes and the ones other nodes make (heard
 * on the invalidation bus), kept in a bounded replay buffer so a stream client that reconnects
 * with `Last-Event-ID` gets what it missed, on this node or any other.
 *
 * Every node hears every event, but not necessarily in the same order (events from two nodes
 * may cross on the bus). A resumption therefore sends what follows the last event in this
 * node's order and, besides, every event given in the `resumeMarginMs` before it: a client may
 * get an event twice after a reconnect (applying one twice is harmless), never miss one.
 *
 * When the feed cannot vouch for what happened since the last event (the id is older than the
 * buffer, from before this node started, unknown, or the bus lost messages meanwhile) the client
 * is told to resync: to treat every session it holds as unverified and check it again.
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { InvalidationBus } from '../invalidation/bus.ts'
import { readEventIdInstant, type RealtimeEvent, type StampedEvent } from './events.ts'

export interface EventFeedSettings {
  /** Events are kept for replay this long… */
  replayWindowSeconds: number
  /** …and at most this many. */
  replayMaxEvents: number
}

export type StreamItem = { kind: 'event'; stamped: StampedEvent } | { kind: 'resync' }

export interface EventSubscription {
  /** What the client missed since its last event (or a resync), to send before anything new. */
  backlog: StreamItem[]
  stop(): void
}

export interface RealtimeEvents {
  /** Stamps an event, keeps it and tells the other nodes. Never rejects (the bus reports its failures). */
  publish(event: RealtimeEvent): Promise<void>
}

export interface EventFeed extends RealtimeEvents {
  /** Follows the feed from after `lastEventId` (null: from now on). */
  follow(lastEventId: string | null, deliver: (item: StreamItem) => void): EventSubscription
  /** Stops listening to the bus and lets go of every follower. */
  close(): void
}

/** Margin for events of other nodes arriving out of order (bus delay, clock differences). */
const resumeMarginMs = 2000

export function createEventFeed(deps: { bus: InvalidationBus; clock: Clock; settings: EventFeedSettings }): EventFeed {
  const { bus, clock, settings } = deps
  const nodeTag = randomBytes(4).toString('hex')
  let sequence = 0
  const kept: StampedEvent[] = []
  const keptIds = new Set<string>()
  const followers = new Set<(item: StreamItem) => void>()
  // Events from this instant on are all in the buffer (unless dropped for age or count, which moves it).
  let completeSinceMs = clock.now().getTime()

  function prune(nowMs: number): void {
    const oldestKeptMs = nowMs - settings.replayWindowSeconds * 1000
    while (kept.length > 0 && (kept.length > settings.replayMaxEvents || (kept[0]?.at ?? nowMs) < oldestKeptMs)) {
      const dropped = kept.shift()
      if (!dropped) break
      keptIds.delete(dropped.id)
      completeSinceMs = Math.max(completeSinceMs, dropped.at + 1)
    }
  }

  function keep(stamped: StampedEvent): void {
    if (keptIds.has(stamped.id)) return
    kept.push(stamped)
    keptIds.add(stamped.id)
    prune(clock.now().getTime())
    for (const deliver of [...followers]) deliver({ kind: 'event', stamped })
  }

  function replayAfter(lastEventId: string): StreamItem[] {
    const lastAt = readEventIdInstant(lastEventId)
    if (lastAt === null || lastAt < completeSinceMs || lastAt > clock.now().getTime() + resumeMarginMs)
      return [{ kind: 'resync' }]
    const position = kept.findIndex((stamped) => stamped.id === lastEventId)
    return kept
      .filter(
        (stamped, index) =>
          stamped.id !== lastEventId &&
          ((position !== -1 && index > position) || stamped.at >= lastAt - resumeMarginMs),
      )
      .map((stamped) => ({ kind: 'event', stamped }))
  }

  const unsubscribe = bus.subscribe({
    onInvalidation(message) {
      if (message.kind === 'event') keep(message.stamped)
    },
    onReset() {
      // Messages may have been lost: nothing before now can be vouched for.
      completeSinceMs = clock.now().getTime()
      for (const deliver of [...followers]) deliver({ kind: 'resync' })
    },
  })

  return {
    async publish(event) {
      const at = clock.now().getTime()
      sequence += 1
      const stamped: StampedEvent = { id: `${String(at).padStart(13, '0')}-${nodeTag}-${sequence}`, at, event }
      keep(stamped)
      await bus.publish({ kind: 'event', stamped })
    },

    follow(lastEventId, deliver) {
      prune(clock.now().getTime())
      const backlog = lastEventId === null ? [] : replayAfter(lastEventId)
      followers.add(deliver)
      return { backlog, stop: () => void followers.delete(deliver) }
    },

    close() {
      unsubscribe()
      followers.clear()
    },
  }
}

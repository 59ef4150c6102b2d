/**
 * One Server-Sent Events connection: frames events (`id`, `event`, `data`), sends a comment line
 * as a heartbeat on a quiet stream, and bounds what waits for a slow reader. Node buffers what the
 * socket cannot take yet; past `maxBufferedBytes` the stream is cut rather than buffered without
 * end: the client reconnects with `Last-Event-ID` and the replay buffer gives it what it missed.
 */
import type { ServerResponse } from 'node:http'
import { describeEventData, type StreamItem } from '../core/application/application.ts'

export interface EventStreamLimits {
  heartbeatSeconds: number
  maxBufferedBytes: number
}

/** The text of one item on the wire. */
export function frameStreamItem(item: StreamItem): string {
  if (item.kind === 'resync') {
    // No id: the client keeps its Last-Event-ID, and a resync is never replayed.
    return `event: resync\ndata: ${JSON.stringify({ reason: 'events_unavailable' })}\n\n`
  }
  const { stamped } = item
  return `id: ${stamped.id}\nevent: ${stamped.event.type}\ndata: ${JSON.stringify(describeEventData(stamped))}\n\n`
}

export interface EventStreamConnection {
  send(item: StreamItem): void
  /** Ends the stream (the server stops); the client reconnects elsewhere. */
  end(): void
}

export function openEventStream(
  response: ServerResponse,
  limits: EventStreamLimits,
  onClosed: (why: 'client' | 'slow_consumer' | 'server') => void,
): EventStreamConnection {
  let isOpen = true
  const close = (why: 'client' | 'slow_consumer' | 'server') => {
    if (!isOpen) return
    isOpen = false
    clearInterval(heartbeat)
    onClosed(why)
  }
  const write = (text: string) => {
    if (!isOpen) return
    response.write(text)
    if (response.writableLength > limits.maxBufferedBytes) {
      close('slow_consumer')
      response.destroy()
    }
  }
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), limits.heartbeatSeconds * 1000)
  heartbeat.unref()
  response.on('close', () => close('client'))
  // A socket on which nothing moves for three heartbeats is a reader that stopped reading.
  response.socket?.setTimeout((limits.heartbeatSeconds * 3 + 10) * 1000)
  return {
    send: (item) => write(frameStreamItem(item)),
    end() {
      close('server')
      response.end()
    },
  }
}

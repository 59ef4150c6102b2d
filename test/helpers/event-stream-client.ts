/** A test client of GET /v1/events/stream: collects the events and comments it reads. */
import { readEventStream, type StreamMessage } from '../../src/verifier/event-stream.ts'

export interface StreamClient {
  status: number
  messages: StreamMessage[]
  comments: string[]
  /** Resolves with the first message (already read or to come) that `matches`; rejects after `timeoutMs`. */
  waitFor(matches: (message: StreamMessage) => boolean, timeoutMs?: number): Promise<StreamMessage>
  waitForComment(matches: (text: string) => boolean, timeoutMs?: number): Promise<string>
  /** Resolves when the server ends the stream. */
  ended: Promise<void>
  close(): void
}

export async function openStreamClient(
  baseUrl: string,
  authorization: string,
  lastEventId?: string,
): Promise<StreamClient> {
  const abort = new AbortController()
  const response = await fetch(`${baseUrl}/v1/events/stream`, {
    headers: {
      authorization,
      accept: 'text/event-stream',
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    },
    signal: abort.signal,
  })
  const messages: StreamMessage[] = []
  const comments: string[] = []
  const waiters = new Set<() => void>()
  const wake = () => {
    for (const waiter of [...waiters]) waiter()
  }
  const ended =
    response.status === 200 && response.body
      ? readEventStream(
          response.body,
          (message) => {
            messages.push(message)
            wake()
          },
          (text) => {
            comments.push(text)
            wake()
          },
        ).catch(() => {
          // Aborted by close(), or cut by the server: either way the stream is over.
        })
      : Promise.resolve()
  function waitUntil<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find()
        if (found === undefined) return
        waiters.delete(check)
        clearTimeout(timer)
        resolve(found)
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(messages)}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  }
  return {
    status: response.status,
    messages,
    comments,
    waitFor: (matches, timeoutMs = 5000) => waitUntil(() => messages.find(matches), timeoutMs, 'matching event'),
    waitForComment: (matches, timeoutMs = 5000) =>
      waitUntil(() => comments.find(matches), timeoutMs, 'matching comment'),
    ended,
    close: () => abort.abort(),
  }
}

/** The parsed `data` of a message. */
export function dataOf(message: StreamMessage): Record<string, unknown> {
  return JSON.parse(message.data) as Record<string, unknown>
}

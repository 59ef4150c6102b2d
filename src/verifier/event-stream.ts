/**
 * A reader of Server-Sent Events (the WHATWG `text/event-stream` format) over `fetch`, for
 * following Tessera's `GET /v1/events/stream`. `EventSource` cannot send the service client's
 * credentials in an Authorization header, so the stream is read from a fetch body instead.
 */

export interface StreamMessage {
  /** The `event` field; `message` when absent. */
  event: string
  data: string
  /** The `id` field, or null when the message has none. */
  id: string | null
}

/** Parses the stream incrementally: feed it text as it arrives. */
export function createEventStreamParser(
  onMessage: (message: StreamMessage) => void,
  onComment?: (text: string) => void,
) {
  let buffer = ''
  let event = ''
  let data: string[] = []
  let id: string | null = null

  function dispatch(): void {
    if (data.length > 0) onMessage({ event: event === '' ? 'message' : event, data: data.join('\n'), id })
    event = ''
    data = []
    id = null
  }

  function readLine(line: string): void {
    if (line === '') return dispatch()
    if (line.startsWith(':')) return onComment?.(line.slice(1).trim())
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
    else if (field === 'id' && !value.includes('\u0000')) id = value
  }

  return {
    push(text: string): void {
      buffer += text
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer)
        // A lone \r at the end may be the first half of \r\n: wait for more.
        if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break
        const line = buffer.slice(0, match.index)
        buffer = buffer.slice(match.index + match[0].length)
        readLine(line)
      }
    },
  }
}

/**
 * Reads a fetch body as events until it ends (resolves) or fails (rejects). The caller aborts
 * the request to stop early.
 */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onMessage: (message: StreamMessage) => void,
  onComment?: (text: string) => void,
): Promise<void> {
  const parser = createEventStreamParser(onMessage, onComment)
  const decoder = new TextDecoder()
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      parser.push(decoder.decode(value, { stream: true }))
    }
  } finally {
    reader.releaseLock()
  }
}

/** Raw HTTP/1.1 over a socket, for requests no well-behaved client would send. */
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface RawAnswer {
  /** 0 when the server closed the connection without an answer. */
  status: number
  text: string
  elapsedMs: number
}

/**
 * Sends `chunks` (pausing `pauseMs` between them), then waits for the server to answer and
 * close, at most `timeoutMs`. The answer is the first response on the connection.
 */
export async function sendRaw(
  url: string,
  chunks: ReadonlyArray<string | Uint8Array>,
  options: { pauseMs?: number; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url)
  const socket = connect({ host: hostname, port: Number(port) })
  const started = performance.now()
  let text = ''
  const closed = new Promise<void>((resolve) => {
    socket.on('data', (data) => (text += data.toString('latin1')))
    socket.on('close', () => resolve())
    socket.on('error', () => resolve())
  })
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()).once('error', () => resolve()))
  for (const chunk of chunks) {
    if (socket.destroyed || text !== '') break
    socket.write(chunk)
    if (options.pauseMs) await sleep(options.pauseMs)
  }
  const stopWaiting = new AbortController()
  const timeout = sleep(options.timeoutMs ?? 8000, undefined, { signal: stopWaiting.signal }).catch(() => undefined)
  await Promise.race([closed, timeout])
  stopWaiting.abort()
  socket.destroy()
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
  return { status, text, elapsedMs: performance.now() - started }
}

/**
 * A TCP proxy between Tessera and a Redis of the test's own that reads the Redis protocol going
 * to the server, so a test can stop Redis at an exact point of an operation: `failAt(n, fault)`
 * lets n − 1 more commands through and runs `fault` (kill or pause the server) when the n-th
 * arrives, before it is forwarded. `countFrom()` measures how many commands an operation sends.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface RedisFaultProxy {
  port: number
  url: string
  /** Starts counting commands from zero. */
  countFrom(): void
  /** Commands seen since `countFrom()` or `failAt()`. */
  commandCount(): number
  /** Runs `fault` when the n-th command from now arrives (it is never forwarded); once. */
  failAt(commandNumber: number, fault: () => Promise<void> | void): void
  /**
   * Runs `pause` (SIGSTOP the server) just before the n-th command from now is forwarded; the
   * connections stay open, so the command reaches a server that says nothing; once.
   */
  pauseAt(commandNumber: number, pause: () => void): void
  /** Cancels a fault or pause that has not happened yet; true when one had happened. */
  disarm(): boolean
  /** Drops every proxied connection (after a fault, as a stopped server would). */
  dropConnections(): void
  close(): Promise<void>
}

/** Counts the complete commands (RESP arrays, or inline commands) in a growing buffer. */
function createCommandCounter() {
  let pending = Buffer.alloc(0)
  return {
    /** Returns, for each complete command in the new bytes, the offset just after it. */
    feed(chunk: Buffer): number[] {
      const start = pending.length
      pending = Buffer.concat([pending, chunk])
      const ends: number[] = []
      let offset = 0
      for (;;) {
        const end = readCommandEnd(pending, offset)
        if (end === null) break
        ends.push(end - start)
        offset = end
      }
      pending = pending.subarray(offset)
      return ends
    },
  }
}

function readLine(buffer: Buffer, offset: number): { line: string; next: number } | null {
  const end = buffer.indexOf('\r\n', offset)
  return end === -1 ? null : { line: buffer.toString('latin1', offset, end), next: end + 2 }
}

function readCommandEnd(buffer: Buffer, offset: number): number | null {
  const header = readLine(buffer, offset)
  if (!header) return null
  if (!header.line.startsWith('*')) return header.next
  let next = header.next
  const count = Number(header.line.slice(1))
  for (let index = 0; index < count; index += 1) {
    const length = readLine(buffer, next)
    if (!length) return null
    const bulkEnd = length.next + Number(length.line.slice(1)) + 2
    if (bulkEnd > buffer.length) return null
    next = bulkEnd
  }
  return next
}

export async function startRedisFaultProxy(target: { port: number }): Promise<RedisFaultProxy> {
  const sockets = new Set<Socket>()
  let seen = 0
  let armed: { at: number; fault: () => Promise<void> | void } | null = null
  let pausing: { at: number; pause: () => void } | null = null

  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: target.port })
    const counter = createCommandCounter()
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => socket.destroy())
    }
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    upstream.on('data', (data) => client.write(data))
    client.on('data', (chunk: Buffer) => {
      let forwardedUpTo = 0
      for (const end of counter.feed(chunk)) {
        seen += 1
        if (pausing && seen >= pausing.at) {
          pausing.pause()
          pausing = null
        }
        if (armed && seen >= armed.at) {
          const { fault } = armed
          armed = null
          // The bytes before this command go through; this command and everything after do not.
          const commandStart = forwardedUpTo
          if (commandStart > 0) upstream.write(chunk.subarray(0, commandStart))
          client.pause()
          void Promise.resolve(fault()).finally(() => dropAll())
          return
        }
        forwardedUpTo = end
      }
      upstream.write(chunk)
    })
  })

  function dropAll(): void {
    for (const socket of sockets) socket.destroy()
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    countFrom() {
      seen = 0
    },
    commandCount: () => seen,
    failAt(commandNumber, fault) {
      seen = 0
      armed = { at: commandNumber, fault }
    },
    pauseAt(commandNumber, pause) {
      seen = 0
      pausing = { at: commandNumber, pause }
    },
    disarm() {
      const hadHappened = armed === null && pausing === null
      armed = null
      pausing = null
      return hadHappened
    },
    dropConnections: dropAll,
    async close() {
      dropAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

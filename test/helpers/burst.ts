/**
 * Many simultaneous requests over real connections, as a guessing script sends them: every
 * connection is opened first (each from its own source address in 127.0.0.0/8, which Linux
 * routes to the loopback interface), and only once all are open is one request written on each,
 * in a single loop, so the server receives them together. Nothing is forged: the server sees the
 * real peer address of each connection.
 */
import { connect, type Socket } from 'node:net'

export interface BurstRequest {
  /** The client's source address, for example `127.0.0.2`. */
  from: string
  path: string
  body: unknown
  bearer?: string
}

function encodeRequest(url: URL, request: BurstRequest): string {
  const body = JSON.stringify(request.body)
  const lines = [
    `POST ${request.path} HTTP/1.1`,
    `Host: ${url.host}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ]
  if (request.bearer !== undefined) lines.push(`Authorization: Bearer ${request.bearer}`)
  return `${lines.join('\r\n')}\r\n\r\n${body}`
}

function openConnection(url: URL, from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), localAddress: from })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** The status of the answer on `socket`, once the server has answered and closed (0: none). */
function readStatus(socket: Socket, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    let text = ''
    const timer = setTimeout(() => socket.destroy(), timeoutMs)
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
    socket.on('error', () => socket.destroy())
    socket.once('close', () => {
      clearTimeout(timer)
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0))
    })
  })
}

/** Sends every request at once, one connection each; returns the statuses in request order. */
export async function sendBurst(
  baseUrl: string,
  requests: readonly BurstRequest[],
  timeoutMs = 120_000,
): Promise<number[]> {
  const url = new URL(baseUrl)
  const sockets = await Promise.all(requests.map((request) => openConnection(url, request.from)))
  const statuses = sockets.map((socket) => readStatus(socket, timeoutMs))
  const encoded = requests.map((request) => encodeRequest(url, request))
  sockets.forEach((socket, index) => socket.write(encoded[index] ?? ''))
  return Promise.all(statuses)
}

/** The same requests one after another, each sent once the answer to the one before is in. */
export async function sendInSequence(baseUrl: string, requests: readonly BurstRequest[]): Promise<number[]> {
  const statuses: number[] = []
  for (const request of requests) statuses.push(...(await sendBurst(baseUrl, [request])))
  return statuses
}

/** `count` source addresses from 127.0.0.2 on (127.0.0.1 is where the test itself signs in). */
export function loopbackAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `127.0.${Math.floor((index + 2) / 256)}.${(index + 2) % 256}`)
}

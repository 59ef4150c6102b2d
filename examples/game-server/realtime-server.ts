/**
 * The real-time half of the example game server: players play over a WebSocket (the `ws`
 * package) and the server keeps each player's socket only while their Tessera session lives.
 *
 * 1. A player asks Tessera for a one-time ticket (`POST /v1/tickets` with this server's audience),
 *    opens `ws://<game>/play` and sends `{"type":"hello","ticket":"…"}` as its first message
 *    (not in the URL, where proxies would log it).
 * 2. The server redeems the ticket with its service-client credentials (`POST /v1/tickets/redeem`)
 *    and learns who it is: `{ sub, session_id, roles, username }`. A reused, expired or foreign
 *    ticket closes the socket (4401).
 * 3. Progress lives in Tessera's player data (`/v1/users/{id}/data`), written with If-Match.
 * 4. The verifier follows Tessera's event stream: when the session ends (logout, kick, a sign-in
 *    on another device…) the socket is closed at once (4001, the reason in the close frame).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Socket } from 'node:net'
import type { EndedSession, Verifier } from 'tessera/verifier'
import { WebSocketServer, type WebSocket } from 'ws'

export interface TesseraLink {
  /** Tessera's URL as this server reaches it. */
  url: string
  clientId: string
  clientSecret: string
  /** The audience players ask their tickets for. */
  audience: string
}

interface Player {
  userId: string
  sessionId: string
  username: string
}

const helloTimeoutMs = 5000
const maxMessageBytes = 4096

function basic(link: TesseraLink): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(link.clientId)}:${encodeURIComponent(link.clientSecret)}`).toString('base64')}`
}

export interface RealtimeGameServer {
  server: Server
  /** Open player sockets. */
  playerCount(): number
  /** For a verifier's `revocationStream.onSessionEnded`. */
  endSession(ended: EndedSession): void
  close(): Promise<void>
}

export function buildRealtimeGameServer(deps: { tessera: TesseraLink; verifier?: Verifier }): RealtimeGameServer {
  const { tessera } = deps
  const sockets = new Map<string, Set<WebSocket>>()
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes })
  const server = createServer((_request, response) => {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('WebSocket at /play\n')
  })

  async function tesseraCall(
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const response = await fetch(`${tessera.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: basic(tessera),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(5000),
    })
    const text = await response.text()
    return {
      status: response.status,
      etag: response.headers.get('etag'),
      json: text === '' ? null : (JSON.parse(text) as Record<string, unknown>),
    }
  }

  async function redeem(ticket: string): Promise<Player | null> {
    const answer = await tesseraCall('/v1/tickets/redeem', {
      method: 'POST',
      body: { ticket, audience: tessera.audience },
    })
    if (answer.status !== 200 || !answer.json) return null
    return {
      userId: String(answer.json.sub),
      sessionId: String(answer.json.session_id),
      username: String(answer.json.username),
    }
  }

  /** Adds points to the player's progress; retried when another write came first (412). */
  async function addPoints(userId: string, points: number): Promise<Record<string, unknown>> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await tesseraCall(`/v1/users/${encodeURIComponent(userId)}/data`)
      const score = Number(current.json?.score ?? 0) + points
      const written = await tesseraCall(`/v1/users/${encodeURIComponent(userId)}/data`, {
        method: 'PATCH',
        body: { score },
        headers: { 'content-type': 'application/merge-patch+json', 'if-match': current.etag ?? '"0"' },
      })
      if (written.status === 200 && written.json) return written.json
      if (written.status !== 412) throw new Error(`player data answered ${written.status}`)
    }
    throw new Error('player data kept changing')
  }

  function track(player: Player, socket: WebSocket): void {
    let set = sockets.get(player.sessionId)
    if (!set) sockets.set(player.sessionId, (set = new Set()))
    set.add(socket)
    socket.once('close', () => {
      set.delete(socket)
      if (set.size === 0) sockets.delete(player.sessionId)
    })
  }

  function play(socket: WebSocket): void {
    let player: Player | null = null
    const hello = setTimeout(() => socket.close(4401, 'hello_timeout'), helloTimeoutMs)
    socket.on('message', (raw) => {
      let message: { type?: unknown; ticket?: unknown; points?: unknown }
      try {
        message = JSON.parse(String(raw)) as typeof message
      } catch {
        socket.close(4400, 'bad_message')
        return
      }
      if (player === null) {
        if (message.type !== 'hello' || typeof message.ticket !== 'string') return socket.close(4401, 'hello_expected')
        clearTimeout(hello)
        void (async () => {
          const redeemed = await redeem(message.ticket as string).catch(() => null)
          if (redeemed === null) return socket.close(4401, 'invalid_ticket')
          player = redeemed
          track(redeemed, socket)
          const progress = await tesseraCall(`/v1/users/${encodeURIComponent(redeemed.userId)}/data`).catch(() => null)
          socket.send(
            JSON.stringify({
              type: 'welcome',
              user_id: redeemed.userId,
              username: redeemed.username,
              progress: progress?.json ?? {},
            }),
          )
        })()
        return
      }
      if (
        message.type === 'score' &&
        Number.isInteger(message.points) &&
        Number(message.points) > 0 &&
        Number(message.points) <= 1000
      ) {
        const { userId } = player
        void addPoints(userId, Number(message.points)).then(
          (progress) => socket.send(JSON.stringify({ type: 'progress', progress })),
          () => socket.send(JSON.stringify({ type: 'error', error: 'progress_not_saved' })),
        )
      }
    })
    socket.once('close', () => clearTimeout(hello))
  }

  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://game').pathname !== '/play') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n')
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => play(ws))
  })

  return {
    server,
    playerCount: () => [...sockets.values()].reduce((sum, set) => sum + set.size, 0),
    endSession(ended) {
      for (const socket of sockets.get(ended.sessionId) ?? []) {
        // The close reason tells the client why: sign in again, or it was signed in elsewhere.
        socket.close(4001, ended.reason === 'limit' ? 'signed_in_elsewhere' : `session_ended:${ended.reason}`)
      }
    },
    async close() {
      deps.verifier?.close()
      for (const client of wss.clients) client.terminate()
      wss.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * A TCP proxy on 127.0.0.1 that a test puts between Tessera and a backend, to take the backend
 * away without touching the real server: `refuse()` drops every connection and refuses new
 * ones (a server that is down), `stall()` keeps connections open but lets no byte through (a
 * server or network that hangs), `restore()` forwards again.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  port: number
  refuse(): Promise<void>
  stall(): void
  restore(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let mode: 'forward' | 'stall' = 'forward'
  let port = 0

  function track(socket: Socket): void {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }

  function handle(client: Socket): void {
    track(client)
    // A stalled proxy accepts, then never answers: the client's own timeouts must fire.
    if (mode === 'stall') return
    const upstream = connect(target)
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  }

  function listen(server: Server): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        const address = server.address()
        port = typeof address === 'object' && address ? address.port : port
        resolve()
      })
    })
  }

  let server: Server | null = createServer(handle)
  await listen(server)

  async function stopListening(): Promise<void> {
    const listening = server
    server = null
    if (listening) await new Promise<void>((resolve) => listening.close(() => resolve()))
  }

  function dropAll(): void {
    for (const socket of sockets) socket.destroy()
  }

  return {
    get port() {
      return port
    },
    async refuse() {
      await Promise.all([stopListening(), Promise.resolve(dropAll())])
    },
    stall() {
      mode = 'stall'
      for (const socket of sockets) {
        socket.unpipe()
        socket.pause()
      }
    },
    async restore() {
      mode = 'forward'
      // Stalled connections stay broken, as after a real network fault; new ones go through.
      dropAll()
      if (!server) {
        server = createServer(handle)
        await listen(server)
      }
    },
    async close() {
      dropAll()
      await stopListening()
    },
  }
}

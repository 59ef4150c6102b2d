/**
 * One Redis server or one Redis Cluster, behind the few operations the stores use: a command or
 * a Lua script routed by its first key, publish and subscribe. Every call is bounded end to end
 * by the backend timeout (see `backend-deadline.ts`): commands are not queued while the
 * connection is down (they fail at once), and a Redis that is connected but silent (a paused or
 * overloaded server) fails the call when its deadline passes, so an unreachable or hung Redis
 * turns into a quick `service_unavailable`. The client reconnects by itself, so a node recovers
 * when Redis is back without a restart.
 *
 * A command written to a silent server stays in the client's queue of commands awaiting a reply
 * after its caller has given up: replies arrive in the order commands were sent, so when the
 * server answers again its late reply is matched to it (and dropped), never to a later command.
 * The socket therefore needs no reset for correctness; a socket that is dropped instead fails
 * every command it still holds, and the queue starts empty on the next one.
 *
 * Client: `@redis/client` (node-redis), the client Redis maintains and recommends; it has no
 * dependencies, routes Cluster commands by hash slot and follows MOVED/ASK and failovers, and
 * resubscribes after a reconnection.
 */
import { createHash } from 'node:crypto'
import { createClient, createCluster, ErrorReply, type RedisClientType, type RedisClusterType } from '@redis/client'
import { maskUrlPassword, type RedisSettings } from '../../config/backends.ts'
import { TesseraError } from '../../core/errors.ts'
import { finishesWithin, runWithinDeadline } from '../backend-deadline.ts'
import { createStoreUnavailableError, isProgrammingError } from '../store-unavailable.ts'

export interface RedisScript {
  source: string
  sha1: string
}

/** A Lua script, run by its SHA-1 (loaded on first use on each server). */
export function defineRedisScript(source: string): RedisScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') }
}

export interface RedisSubscription {
  close(): Promise<void>
}

export interface RedisConnection {
  readonly isCluster: boolean
  /** Sends one command to the server holding `key` (any server when undefined). */
  command<T>(key: string | undefined, args: readonly string[]): Promise<T>
  /** Runs a script atomically; every key must hash to the same slot (use one hash tag). */
  runScript<T>(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<T>
  publish(channel: string, message: string): Promise<void>
  /**
   * Delivers the messages of `channels` until closed. `onInterrupted` hears of a dropped
   * subscription at once (messages may have been lost); it resubscribes by itself.
   */
  subscribe(
    channels: readonly string[],
    onMessage: (channel: string, message: string) => void,
    onInterrupted: () => void,
  ): Promise<RedisSubscription>
  /**
   * Every key matching `pattern` on every master. It walks the whole keyspace: for maintenance,
   * tests and rare administrative requests (an account unlock), never on a hot path.
   */
  scanKeys(pattern: string): Promise<string[]>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface RedisConnectionOptions {
  settings: RedisSettings
  timeoutMs: number
  /** Connection errors outside any request (the client reconnects by itself). */
  onBackgroundError?(error: unknown): void
}

// Replies that mean "not now" (a server loading, failing over or out of quorum); any other
// error reply is a bug in a command or script and stays an internal error.
const transientReplies = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY|NOREPLICAS|MOVED|ASK)\b/

export function translateRedisError(error: unknown): unknown {
  if (error instanceof TesseraError || isProgrammingError(error)) return error
  if (error instanceof ErrorReply && !transientReplies.test(error.message)) return error
  return createStoreUnavailableError(error)
}

function readCredentials(url: string): { username?: string; password?: string; tls: boolean } {
  const parsed = new URL(url)
  return {
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    tls: parsed.protocol === 'rediss:',
  }
}

/** Retries quickly and for ever: a node must find Redis again by itself within seconds. */
function reconnectDelayMs(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 4), 500)
}

async function connectWithin<T extends { connect(): Promise<unknown>; destroy(): void }>(
  client: T,
  deadlineMs: number,
  what: string,
  lastError: () => unknown,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const cause = lastError()
      const reason = cause instanceof Error && cause.message !== '' ? ` (last error: ${cause.message})` : ''
      reject(new Error(`${what} could not be reached within ${deadlineMs} ms${reason}`))
    }, deadlineMs)
  })
  try {
    await Promise.race([client.connect(), deadline])
    return client
  } catch (error) {
    // connect() retries for ever on its own; destroying the client stops it.
    client.destroy()
    throw error
  } finally {
    clearTimeout(timer)
  }
}

export async function openRedisConnection(options: RedisConnectionOptions): Promise<RedisConnection> {
  const { settings, onBackgroundError } = options
  const timeoutMs = Math.max(1, Math.round(options.timeoutMs))
  const startDeadlineMs = Math.max(5000, timeoutMs * 3)
  const commandOptions = { timeout: timeoutMs }
  const firstUrl = settings.urls[0]
  if (firstUrl === undefined) throw new TypeError('Redis settings hold no URL')
  const { tls, ...credentials } = readCredentials(firstUrl)
  // A connection that stays silent this long is torn down and reopened: with a ping every
  // second on each connection, only a dead one (a dropped route, no RST) goes quiet.
  const socketTimeout = Math.max(5000, timeoutMs * 3)
  const socket = {
    connectTimeout: timeoutMs,
    socketTimeout,
    reconnectStrategy: reconnectDelayMs,
    ...(tls ? { tls: true as const } : {}),
  }
  const pingInterval = 1000
  // Until the first connection is made, errors are the start's own failure, told once in its
  // message (naming the setting), not a line each per reconnection attempt.
  let isConnected = false
  let lastStartError: unknown = null
  const reportError = (error: unknown) => {
    if (isConnected) onBackgroundError?.(error)
    else lastStartError = error
  }
  const setting = settings.isCluster ? 'TESSERA_REDIS_CLUSTER' : 'TESSERA_REDIS_URL'

  /**
   * One call, bounded end to end. Its commands carry the deadline's signal: one still waiting to
   * be written when the deadline passes is dropped, and none is sent after it (a script's EVAL
   * fallback included).
   */
  async function guarded<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await runWithinDeadline(timeoutMs, 'Redis', ({ signal }) => work(signal))
    } catch (error) {
      throw translateRedisError(error)
    }
  }

  if (settings.isCluster) {
    const cluster: RedisClusterType<{}, {}, {}, 2> = createCluster({
      rootNodes: settings.urls.map((url) => ({ url })),
      defaults: { ...credentials, socket, disableOfflineQueue: true, pingInterval },
      commandOptions,
      RESP: 2,
    })
    cluster.on('error', reportError)
    await connectWithin(
      cluster,
      startDeadlineMs,
      `${setting}: the Redis Cluster at ${settings.urls.map(maskUrlPassword).join(', ')}`,
      () => lastStartError,
    )
    isConnected = true
    const sender =
      (signal: AbortSignal) =>
      <T>(key: string | undefined, args: readonly string[]) =>
        cluster.sendCommand<T>(key, false, [...args], { abortSignal: signal })
    return {
      isCluster: true,
      command: (key, args) => guarded((signal) => sender(signal)(key, args)),
      runScript: (script, keys, args) => guarded((signal) => runScript(sender(signal), script, keys, args)),
      publish: (channel, message) =>
        guarded(async (signal) => void (await sender(signal)(channel, ['PUBLISH', channel, message]))),
      async subscribe(channels, onMessage) {
        // A classic subscription on any node of a cluster hears every node's PUBLISH; the client
        // moves it to another node when that one fails.
        const listener = (message: string | Buffer, channel: string | Buffer) =>
          onMessage(String(channel), String(message))
        await guarded(() => cluster.subscribe([...channels], listener))
        return { close: () => guarded(async () => void (await cluster.unsubscribe([...channels], listener))) }
      },
      // A walk of the whole keyspace takes as many round-trips as the keyspace needs: each one
      // is bounded, not the walk.
      async scanKeys(pattern) {
        const keys: string[] = []
        for (const master of cluster.masters) {
          const client = await guarded(() => cluster.nodeClient(master))
          const step = (args: string[]) =>
            guarded((signal) => client.sendCommand<[string, string[]]>(args, { abortSignal: signal }))
          keys.push(...(await scanAll(step, pattern)))
        }
        return keys
      },
      ping: () => guarded(async (signal) => void (await sender(signal)(undefined, ['PING']))),
      close: () => closeWithin(cluster, timeoutMs),
    }
  }

  const client: RedisClientType<{}, {}, {}, 2> = createClient({
    url: firstUrl,
    socket,
    RESP: 2,
    disableOfflineQueue: true,
    commandOptions,
    pingInterval,
  })
  client.on('error', reportError)
  await connectWithin(
    client,
    startDeadlineMs,
    `${setting}: Redis at ${maskUrlPassword(firstUrl)}`,
    () => lastStartError,
  )
  isConnected = true
  const sender =
    (signal: AbortSignal) =>
    <T>(_key: string | undefined, args: readonly string[]) =>
      client.sendCommand<T>([...args], { abortSignal: signal })
  return {
    isCluster: false,
    command: (key, args) => guarded((signal) => sender(signal)(key, args)),
    runScript: (script, keys, args) => guarded((signal) => runScript(sender(signal), script, keys, args)),
    publish: (channel, message) =>
      guarded(async (signal) => void (await sender(signal)(channel, ['PUBLISH', channel, message]))),
    async subscribe(channels, onMessage, onInterrupted) {
      // The subscriber hears the bus heartbeat several times a second, so it needs no ping.
      const subscriber = client.duplicate({ pingInterval: 0 })
      subscriber.on('error', (error: unknown) => {
        reportError(error)
        onInterrupted()
      })
      subscriber.on('end', onInterrupted)
      await connectWithin(subscriber, startDeadlineMs, `${setting}: Redis`, () => null)
      try {
        await guarded(() => subscriber.subscribe([...channels], (message, channel) => onMessage(channel, message)))
      } catch (error) {
        subscriber.destroy()
        throw error
      }
      return { close: () => closeWithin(subscriber, timeoutMs) }
    },
    scanKeys: (pattern) =>
      scanAll((args) => guarded((signal) => client.sendCommand(args, { abortSignal: signal })), pattern),
    ping: () => guarded(async (signal) => void (await sender(signal)(undefined, ['PING']))),
    close: () => closeWithin(client, timeoutMs),
  }
}

/** Closes gracefully (pending replies are awaited), or drops the connection when Redis is silent. */
async function closeWithin(client: { close(): Promise<unknown>; destroy(): void }, timeoutMs: number): Promise<void> {
  if (!(await finishesWithin(client.close(), timeoutMs))) client.destroy()
}

async function runScript<T>(
  send: <R>(key: string | undefined, args: readonly string[]) => Promise<R>,
  script: RedisScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<T> {
  const tail = [String(keys.length), ...keys, ...args]
  try {
    return await send<T>(keys[0], ['EVALSHA', script.sha1, ...tail])
  } catch (error) {
    // A server that restarted or failed over has an empty script cache: send the source once.
    if (!(error instanceof ErrorReply) || !error.message.startsWith('NOSCRIPT')) throw error
    return send<T>(keys[0], ['EVAL', script.source, ...tail])
  }
}

async function scanAll(send: (args: string[]) => Promise<[string, string[]]>, pattern: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])
    keys.push(...batch)
    cursor = next
  } while (cursor !== '0')
  return keys
}

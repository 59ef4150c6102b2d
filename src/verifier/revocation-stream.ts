/**
 * Following Tessera's event stream (`GET /v1/events/stream`) from a resource server: each
 * `session_ended` event is remembered by session id, so the verifier refuses that session's
 * tokens at once instead of at their expiry, and the application is called back (to close the
 * player's socket). The stream is reconnected with backoff and `Last-Event-ID`, so a short cut
 * loses nothing: Tessera replays what was missed.
 *
 * While the stream is cut (and after a `resync`, when events may have been missed) the verifier
 * does what the application chose:
 * - `open` (the default): tokens are accepted as they would be without the stream, so a session
 *   ended during the cut is refused when its token expires (at most the access-token lifetime)
 *   or when the replay arrives. A blip in the link between two services does not kick every
 *   player; the stream only ever makes revocation faster than plain JWT verification.
 * - `closed`: while cut, every token is refused (`unavailable`); after a resync, tokens issued
 *   before it are refused (`invalid_token`), so clients refresh, which Tessera allows only for
 *   live sessions. For servers where a revoked session must never act, at the price of refusing
 *   everyone while Tessera cannot be reached.
 */
import { readEventStream } from './event-stream.ts'

export interface EndedSession {
  sessionId: string
  userId: string
  /** Why: `logout`, `limit` (signed in elsewhere), `kick`, `disabled`, `deleted`, `password_change`, … */
  reason: string
}

export interface RevocationStreamOptions {
  /** A service client (`tessera client create <name>`). */
  clientId: string
  clientSecret: string
  /** Default: `<issuer>/v1/events/stream`. */
  url?: string | URL
  /** What the verifier does while the stream is cut: `open` (default) or `closed`. See above. */
  whenCut?: 'open' | 'closed'
  /** Called for each session ended, once it is refused. */
  onSessionEnded?: (ended: EndedSession) => void
  onRolesChanged?: (change: { userId: string; roles: string[] }) => void
  onKeysRotated?: () => void
  /** Events may have been missed (a cut longer than Tessera's replay window): re-check what you hold. */
  onResync?: () => void
  /** Connected (true) or cut (false). */
  onConnectionChange?: (isConnected: boolean) => void
  /** Failures to connect (wrong credentials answer 401 here); the follower keeps retrying. */
  onError?: (error: Error) => void
  /** Reconnection backoff: doubles from `initialDelayMs` (default 250) up to `maxDelayMs` (default 15000). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number }
  /** A stream silent this long is taken as dead and reconnected. Default 45000 (three heartbeats). */
  silenceTimeoutMs?: number
}

export interface RevocationFollower {
  /** Throws nothing; `refused` says why a principal may not act now. */
  check(sessionId: string, issuedAtMs: number): 'ok' | 'ended' | 'cut' | 'before_resync'
  isConnected(): boolean
  /** Resolves once the stream is first connected. */
  connected: Promise<void>
  close(): void
}

function encodeBasicCredentials(clientId: string, clientSecret: string): string {
  return btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`)
}

export function followRevocations(
  options: RevocationStreamOptions & { issuer: string; fetch?: typeof fetch; rememberMs: number },
): RevocationFollower {
  const url = new URL(options.url ?? `${options.issuer}/v1/events/stream`)
  const authorization = `Basic ${encodeBasicCredentials(options.clientId, options.clientSecret)}`
  const fetchImplementation = options.fetch ?? fetch
  const whenCut = options.whenCut ?? 'open'
  const initialDelayMs = options.reconnect?.initialDelayMs ?? 250
  const maxDelayMs = options.reconnect?.maxDelayMs ?? 15_000
  const silenceTimeoutMs = options.silenceTimeoutMs ?? 45_000
  // Session id → when it may be forgotten (its tokens have all expired by then).
  const ended = new Map<string, number>()
  let lastEventId: string | null = null
  let isConnected = false
  let isClosed = false
  let resyncAtMs = 0
  let abort: AbortController | null = null
  let markConnected: () => void = () => {}
  const connected = new Promise<void>((resolve) => (markConnected = resolve))

  function setConnected(value: boolean): void {
    if (isConnected === value) return
    isConnected = value
    if (value) markConnected()
    options.onConnectionChange?.(value)
  }

  function forgetExpired(nowMs: number): void {
    for (const [sessionId, forgetAtMs] of ended) {
      if (forgetAtMs > nowMs) break
      ended.delete(sessionId)
    }
  }

  function receive(event: string, data: string, id: string | null): void {
    let fields: Record<string, unknown>
    try {
      fields = JSON.parse(data) as Record<string, unknown>
    } catch {
      return
    }
    if (id !== null) lastEventId = id
    if (event === 'session_ended' && typeof fields.session_id === 'string' && typeof fields.user_id === 'string') {
      const nowMs = Date.now()
      forgetExpired(nowMs)
      ended.delete(fields.session_id)
      ended.set(fields.session_id, nowMs + options.rememberMs)
      options.onSessionEnded?.({ sessionId: fields.session_id, userId: fields.user_id, reason: String(fields.reason) })
    } else if (event === 'roles_changed' && typeof fields.user_id === 'string' && Array.isArray(fields.roles)) {
      options.onRolesChanged?.({ userId: fields.user_id, roles: fields.roles.map(String) })
    } else if (event === 'keys_rotated') {
      options.onKeysRotated?.()
    } else if (event === 'resync') {
      resyncAtMs = Date.now()
      options.onResync?.()
    }
  }

  async function connectOnce(): Promise<boolean> {
    abort = new AbortController()
    const controller = abort
    let silence: ReturnType<typeof setTimeout> | undefined
    const resetSilence = () => {
      clearTimeout(silence)
      silence = setTimeout(() => controller.abort(), silenceTimeoutMs)
    }
    try {
      resetSilence()
      const response = await fetchImplementation(url, {
        headers: {
          authorization,
          accept: 'text/event-stream',
          ...(lastEventId === null ? {} : { 'last-event-id': lastEventId }),
        },
        redirect: 'manual',
        signal: controller.signal,
      })
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel()
        throw new Error(`Tessera's event stream answered ${response.status}`)
      }
      setConnected(true)
      await readEventStream(
        response.body,
        (message) => {
          resetSilence()
          receive(message.event, message.data, message.id)
        },
        resetSilence,
      )
      return true
    } catch (error) {
      if (!isClosed && !controller.signal.aborted)
        options.onError?.(error instanceof Error ? error : new Error(String(error)))
      return isConnected
    } finally {
      clearTimeout(silence)
      setConnected(false)
    }
  }

  async function run(): Promise<void> {
    let delayMs = initialDelayMs
    while (!isClosed) {
      const hadConnected = await connectOnce()
      if (isClosed) return
      if (hadConnected) delayMs = initialDelayMs
      // Jitter spreads the reconnections of many servers after a Tessera restart.
      await new Promise((resolve) => setTimeout(resolve, delayMs * (0.5 + Math.random() / 2)))
      delayMs = Math.min(maxDelayMs, delayMs * 2)
    }
  }
  void run()

  return {
    check(sessionId, issuedAtMs) {
      if (ended.has(sessionId)) return 'ended'
      if (whenCut === 'closed') {
        if (!isConnected) return 'cut'
        if (issuedAtMs < resyncAtMs) return 'before_resync'
      }
      return 'ok'
    },
    isConnected: () => isConnected,
    connected,
    close() {
      isClosed = true
      abort?.abort()
    },
  }
}

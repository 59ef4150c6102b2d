/**
 * Keeps a client's session: stores what a sign-in answered, hands out a live access token
 * (refreshing it a little before it expires), and ends the session locally when Tessera refuses
 * it. A refresh is single-flight within the page and exclusive across the tabs sharing the
 * storage; a refresh whose answer is lost is repeated with the same refresh token, which Tessera
 * answers with the same successor within its grace window (TESSERA_REFRESH_GRACE, 5 s by default).
 */
import type { TesseraHttp, Transport } from './http.ts'
import type { SessionEndReason, TabCoordination } from './tab-coordination.ts'
import { TesseraError } from './tessera-error.ts'
import type { StoredSession, TokenStorage } from './token-storage.ts'

/**
 * The session-end event: why, and which session.
 *
 * @example
 * ```ts
 * import type { SessionEndEvent } from 'tessera/client'
 *
 * client.onSessionEnd((event: SessionEndEvent) => {
 *   if (event.reason !== 'signed_out') showNotice('Your session has ended; please sign in again.')
 *   location.assign('/login')
 * })
 * ```
 */
export interface SessionEndEvent {
  reason: SessionEndReason
  sessionId: string
  /** True when another tab sharing the storage saw the end first. */
  isFromOtherTab: boolean
}

/** The token fields of a sign-in, refresh or cookie-session token answer. */
export interface TokenAnswer {
  access_token: string
  expires_in: number
  refresh_token?: string
  session_id: string
}

export interface SessionKeeper {
  storeTokenAnswer(answer: TokenAnswer): Promise<void>
  storeCookieSession(sessionId: string, csrfToken: string | null): Promise<void>
  /** A live access token: refreshed (token transport) or asked of the cookie session when due. */
  getAccessToken(): Promise<string>
  /** A new access token after `refused` was refused; ends the session when Tessera refuses that too. */
  renewAccessToken(refused: string): Promise<string>
  readCsrfToken(): Promise<string | null>
  /** The public id of the session this client holds, or null. */
  readSessionId(): Promise<string | null>
  /** Forgets the session (once), tells the other tabs, and fires the session-end event. */
  endSession(reason: SessionEndReason): Promise<void>
  onSessionEnd(listener: (event: SessionEndEvent) => void): () => void
}

// Delays before repeating a refresh that got no usable answer; the last try stays well inside
// the default grace window, after which a repeat would count as reuse and end the session.
const refreshRetryDelaysMs = [250, 750, 1500]
const transientStatuses = new Set([408, 500, 502, 503, 504])

function isTransient(error: unknown): boolean {
  return error instanceof TesseraError && (error.code === 'network_error' || transientStatuses.has(error.status))
}

function notSignedIn(): TesseraError {
  return new TesseraError('not_signed_in', { title: 'Not signed in', detail: 'Sign in first.' })
}

/** Replace a token some seconds before it expires: 30 s, or half its life when it is short. */
function computeRefreshAt(expiresInSeconds: number): number {
  return Date.now() + expiresInSeconds * 1000 - Math.min(30_000, expiresInSeconds * 500)
}

// How long a tab that waited for the lock waits for the holder's announcement before it
// refreshes itself (then the grace window keeps the session alive).
const announcementWaitMs = 1000
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function createSessionKeeper(deps: {
  transport: Transport
  storage: TokenStorage
  http: TesseraHttp
  tabs: TabCoordination
}): SessionKeeper {
  const { transport, storage, http, tabs } = deps
  const listeners = new Set<(event: SessionEndEvent) => void>()
  let inflight: Promise<StoredSession> | null = null
  // The session this client last saw, to recognise another tab's news about it after the
  // shared storage has already been cleared.
  let knownSessionId: string | null = null
  // The last session another tab announced after refreshing, and who waits for the next one.
  let announced: StoredSession | null = null
  const announcementWaiters = new Set<() => void>()

  async function read(): Promise<StoredSession | null> {
    const session = await storage.get()
    if (session !== null && session.transport === transport) knownSessionId = session.sessionId
    return session?.transport === transport ? session : null
  }

  async function write(session: StoredSession): Promise<void> {
    await storage.set(session)
    knownSessionId = session.sessionId
  }

  function emit(event: SessionEndEvent): void {
    for (const listener of [...listeners]) listener(event)
  }

  tabs.onMessage((message) => {
    if (message.type === 'session-updated') {
      announced = message.session
      for (const wake of [...announcementWaiters]) wake()
      return
    }
    if (message.sessionId !== knownSessionId) return
    knownSessionId = null
    void Promise.resolve(storage.get()).then(async (held) => {
      if (held?.sessionId === message.sessionId) await storage.clear()
      emit({ reason: message.reason, sessionId: message.sessionId, isFromOtherTab: true })
    })
  })

  async function endSession(reason: SessionEndReason): Promise<void> {
    const held = await read()
    const sessionId = held?.sessionId ?? knownSessionId
    if (held !== null) await storage.clear()
    knownSessionId = null
    if (sessionId === null) return
    tabs.announce({ type: 'session-ended', sessionId, reason })
    emit({ reason, sessionId, isFromOtherTab: false })
  }

  async function redeem(refreshToken: string): Promise<TokenAnswer> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await http.readAnswer<TokenAnswer>(
          await http.send('/v1/auth/refresh', { method: 'POST', body: { refresh_token: refreshToken } }),
        )
      } catch (error) {
        const delayMs = refreshRetryDelaysMs[attempt]
        if (!isTransient(error) || delayMs === undefined) throw error
        await wait(delayMs)
      }
    }
  }

  async function storeTokenAnswer(answer: TokenAnswer, previous: StoredSession | null = null): Promise<StoredSession> {
    const session: StoredSession = {
      transport,
      sessionId: answer.session_id,
      accessToken: answer.access_token,
      // An answer without a refresh token (a cookie session's token, a re-authentication) keeps the one held.
      refreshToken: answer.refresh_token ?? previous?.refreshToken ?? null,
      refreshAt: computeRefreshAt(answer.expires_in),
      csrfToken: previous?.csrfToken ?? null,
    }
    await write(session)
    return session
  }

  function waitForAnnouncement(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        announcementWaiters.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, timeoutMs)
      announcementWaiters.add(wake)
    })
  }

  /** A live session that replaced `seenRefreshToken`: stored, or announced by another tab. */
  async function findReplacement(seen: StoredSession): Promise<StoredSession | null> {
    const candidates = [await read(), announced]
    return (
      candidates.find(
        (candidate) =>
          candidate?.sessionId === seen.sessionId &&
          candidate.refreshToken !== null &&
          candidate.refreshToken !== seen.refreshToken &&
          Date.now() < candidate.refreshAt,
      ) ?? null
    )
  }

  /** Token transport: rotates the refresh token unless another flight or tab already has. */
  function refresh(seen: StoredSession): Promise<StoredSession> {
    inflight ??= tabs
      .exclusive(seen.sessionId, async (hadToWait) => {
        let replacement = await findReplacement(seen)
        // The tab that held the lock has announced its result, or is about to: the storage
        // may lag behind it.
        if (replacement === null && hadToWait) {
          await waitForAnnouncement(announcementWaitMs)
          replacement = await findReplacement(seen)
        }
        if (replacement !== null) return replacement
        const current = await read()
        if (current?.refreshToken == null) throw notSignedIn()
        let answer: TokenAnswer
        try {
          answer = await redeem(current.refreshToken)
        } catch (error) {
          if (error instanceof TesseraError && error.code === 'invalid_grant') await endSession('refresh_refused')
          throw error
        }
        const next = await storeTokenAnswer(answer, current)
        tabs.announce({ type: 'session-updated', session: next })
        return next
      })
      .finally(() => {
        inflight = null
      })
    return inflight
  }

  /** Cookie transport: a new access token from the cookie session (no rotation, no lock needed). */
  function askCookieSession(): Promise<StoredSession> {
    inflight ??= (async () => {
      const response = await http.send('/v1/auth/token', { method: 'POST', csrfToken: await readCsrfToken() })
      if (response.status === 401) await endSession('unauthorized')
      return storeTokenAnswer(await http.readAnswer<TokenAnswer>(response), await read())
    })().finally(() => {
      inflight = null
    })
    return inflight
  }

  async function readCsrfToken(): Promise<string | null> {
    return (await read())?.csrfToken ?? null
  }

  async function getAccessToken(): Promise<string> {
    const session = await read()
    if (session?.accessToken != null && Date.now() < session.refreshAt) return session.accessToken
    if (transport === 'cookie') return (await askCookieSession()).accessToken ?? ''
    if (session === null) throw notSignedIn()
    return (await refresh(session)).accessToken ?? ''
  }

  return {
    storeTokenAnswer: async (answer) => {
      const held = await read()
      await storeTokenAnswer(answer, held?.sessionId === answer.session_id ? held : null)
    },
    async storeCookieSession(sessionId, csrfToken) {
      await write({ transport, sessionId, accessToken: null, refreshToken: null, refreshAt: 0, csrfToken })
    },
    getAccessToken,
    async renewAccessToken(refused) {
      const session = await read()
      // Another flight or tab may have replaced the refused token already.
      if (session?.accessToken != null && session.accessToken !== refused && Date.now() < session.refreshAt) {
        return session.accessToken
      }
      if (transport === 'cookie') return (await askCookieSession()).accessToken ?? ''
      if (session === null) throw notSignedIn()
      return (await refresh(session)).accessToken ?? ''
    },
    readCsrfToken,
    readSessionId: async () => (await read())?.sessionId ?? null,
    endSession,
    onSessionEnd(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

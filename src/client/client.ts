/**
 * The Tessera client: each method is a few lines over one `request()` helper. Token transport
 * (the default) holds an access token and a rotating refresh token; cookie transport leaves the
 * session in Tessera's HttpOnly cookie and asks it for access tokens when one is needed.
 */
import {
  readSession,
  readUser,
  type AccessToken,
  type SessionInfo,
  type SessionJson,
  type SignInJson,
  type SignedIn,
  type User,
  type UserJson,
} from './api-types.ts'
import { createTesseraHttp, type HttpExchange, type Transport } from './http.ts'
import {
  readDevice,
  type DataDocument,
  type Device,
  type DeviceJson,
  type DeviceSignedIn,
  type Ticket,
  type VersionedData,
} from './game-types.ts'
import { createSessionKeeper, type SessionEndEvent, type TokenAnswer } from './session-keeper.ts'
import { createTabCoordination } from './tab-coordination.ts'
import { TesseraError } from './tessera-error.ts'
import { memoryTokenStorage, type TokenStorage } from './token-storage.ts'

/**
 * How to reach Tessera and keep the session.
 *
 * @example
 * ```ts
 * import { createTesseraClient, localTokenStorage, type TesseraClientOptions } from 'tessera/client'
 *
 * const options: TesseraClientOptions = {
 *   baseUrl: 'https://auth.example',          // TESSERA_PUBLIC_URL
 *   transport: 'token',
 *   storage: localTokenStorage(),             // share the session between tabs
 *   onSessionEnd: () => location.assign('/login'),
 * }
 * const client = createTesseraClient(options)
 * ```
 */
export interface TesseraClientOptions {
  /** Tessera's public URL (TESSERA_PUBLIC_URL). */
  baseUrl: string
  /**
   * `token` (default): bearer tokens, for games, apps, Node services and pages on any origin.
   * `cookie`: the HttpOnly session cookie, for pages on Tessera's site (see README "Browser app").
   */
  transport?: Transport
  /** Where the session is kept; memory by default. */
  storage?: TokenStorage
  /** The fetch to use (tests, proxies, custom agents); the global one by default. */
  fetch?: typeof fetch
  /** Bound on every call to Tessera, from request to answer; 30 s by default. */
  timeoutSeconds?: number
  /** Called once when the session ends: signed out, refresh refused, or refused as a credential. */
  onSessionEnd?: (event: SessionEndEvent) => void
}

/**
 * A client of one Tessera server, for browsers, Node and game clients on JavaScript runtimes.
 *
 * @example
 * ```ts
 * import { createTesseraClient } from 'tessera/client'
 *
 * const client = createTesseraClient({ baseUrl: 'https://auth.example' })
 * await client.signIn({ username: 'alice', password: 'correct horse battery staple' })
 * const { user } = await client.me()
 * const scores = await client.fetch('https://api.example/scores')   // with a live bearer token
 * await client.signOut()
 * ```
 */
export interface TesseraClient {
  /** Creates an account (it does not sign in). Throws `username_taken`, `password_*`, `invalid_username`. */
  register(input: { username: string; password: string }): Promise<User>
  /**
   * Signs in on the client's transport. Throws `invalid_credentials`, `rate_limited`, and
   * `mfa_required` for an account with a second factor: read its challenge with
   * {@link readSecondFactorChallenge} and finish with {@link TesseraClient.completeSignIn}.
   */
  signIn(input: { username: string; password: string }): Promise<SignedIn>
  /**
   * The second step of a sign-in that threw `mfa_required`: the challenge and one proof (the code
   * of the authenticator app, or a recovery code). Throws `invalid_mfa_code`, `invalid_mfa_challenge`.
   */
  completeSignIn(input: { challenge: string } & SecondFactorProof): Promise<SignedIn>
  /**
   * Renews this session's authentication (no new session) for operations that threw
   * `reauthentication_required`: the password, and a proof when the account has a second factor.
   */
  reauthenticate(input: { password?: string } & Partial<SecondFactorProof>): Promise<Reauthenticated>
  /** Ends this session at Tessera and here; fires the session-end event (`signed_out`). */
  signOut(): Promise<void>
  me(): Promise<SignedIn>
  /** Changes the password; every session ends and this client continues on the new one. */
  changePassword(input: { currentPassword: string; newPassword: string }): Promise<SignedIn>
  /** Cookie transport: an access token naming the cookie session, for a game client or API calls. */
  tokenFromCookieSession(): Promise<AccessToken>
  /** A live access token (refreshed, or asked of the cookie session, when due). */
  getAccessToken(): Promise<string>
  /**
   * `fetch` for the app's own APIs with `Authorization: Bearer` set to a live access token; a
   * 401 gets one retry with a renewed token (when the body can be sent again).
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>
  readonly sessions: {
    list(): Promise<SessionInfo[]>
    /** Ends one of the caller's sessions; ending the current one is a sign-out. Throws `not_found`. */
    end(sessionId: string): Promise<void>
    /** Ends every other session of the caller; returns how many ended. */
    endOthers(): Promise<number>
  }
  /**
   * Signs in with a device on the client's transport. Without `deviceSecret`, a device id no
   * account has makes a guest account and the answer carries the device's secret, once. Throws
   * `invalid_credentials`, `rate_limited`.
   */
  signInWithDevice(input: { deviceId: string; deviceSecret?: string }): Promise<DeviceSignedIn>
  /** Gives a guest account a username and password; it stays the same user. Throws `forbidden`, `username_taken`, `password_*`. */
  addCredentials(input: { username: string; password: string }): Promise<User>
  readonly devices: {
    list(): Promise<Device[]>
    /** Links a device; answers its secret, shown this once. Throws `device_taken`. */
    link(deviceId: string): Promise<{ device: Device; deviceSecret: string }>
    /** Unlinks one; its secret is refused from then on. Throws `not_found`. */
    unlink(id: string): Promise<void>
  }
  /** The current session's data, which ends with the session. */
  readonly sessionData: DataDocument
  /** The signed-in user's player data. */
  readonly playerData: DataDocument
  /** A one-time ticket of this session for a game server (`audience`), valid 30 seconds. */
  createTicket(audience: string): Promise<Ticket>
  /** Adds a session-end listener; returns a function that removes it. */
  onSessionEnd(listener: (event: SessionEndEvent) => void): () => void
  /** Stops listening to other tabs. */
  close(): void
}

/**
 * One proof of the second factor: a TOTP `code` or a `recoveryCode`.
 *
 * @example
 * ```ts
 * import type { SecondFactorProof } from 'tessera/client'
 *
 * const proof: SecondFactorProof = usesRecoveryCode ? { recoveryCode: typed } : { code: typed }
 * await client.completeSignIn({ challenge, ...proof })
 * ```
 */
export type SecondFactorProof = { code: string; recoveryCode?: never } | { recoveryCode: string; code?: never }

/**
 * A renewed authentication of the current session.
 *
 * @example
 * ```ts
 * import type { Reauthenticated } from 'tessera/client'
 *
 * const renewed: Reauthenticated = await client.reauthenticate({ password, code })
 * console.log(renewed.authenticatedAt, renewed.amr)   // e.g. [ 'pwd', 'otp', 'mfa' ]
 * ```
 */
export interface Reauthenticated {
  authenticatedAt: Date
  /** Authentication methods (RFC 8176): `pwd`, `otp`, `mfa`, `hwk`, `swk`. */
  amr: string[]
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

function proofBody(proof: Partial<SecondFactorProof>): Record<string, string> {
  if (proof.code !== undefined) return { code: proof.code }
  if (proof.recoveryCode !== undefined) return { recovery_code: proof.recoveryCode }
  return {}
}

function isReplayable(body: RequestInit['body']): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof FormData
  )
}

/**
 * Creates a client.
 *
 * @example
 * ```ts
 * import { createTesseraClient, TesseraError } from 'tessera/client'
 *
 * // A page on app.example.com with the session cookie of auth.example.com (same site)
 * const client = createTesseraClient({ baseUrl: 'https://auth.example.com', transport: 'cookie' })
 * await client.signIn({ username, password })
 * const { accessToken } = await client.tokenFromCookieSession()
 * startGame({ accessToken })   // no second sign-in
 * ```
 */
export function createTesseraClient(options: TesseraClientOptions): TesseraClient {
  const transport = options.transport ?? 'token'
  const storage = options.storage ?? memoryTokenStorage()
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const http = createTesseraHttp({
    baseUrl,
    transport,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    timeoutSeconds: options.timeoutSeconds ?? 30,
  })
  const tabs = createTabCoordination(`tessera ${baseUrl} ${storage.name}`)
  const keeper = createSessionKeeper({ transport, storage, http, tabs })
  if (options.onSessionEnd) keeper.onSessionEnd(options.onSessionEnd)
  const appFetch = options.fetch ?? ((input: string | URL, init?: RequestInit) => globalThis.fetch(input, init))

  /** One call to Tessera; `authenticated` calls carry the session and renew it once on a 401. */
  async function exchange(path: string, input: HttpExchange & { authenticated?: boolean }): Promise<Response> {
    const { authenticated = false, ...sent } = input
    if (!authenticated) return http.send(path, sent)
    if (transport === 'cookie') {
      const response = await http.send(path, { ...sent, csrfToken: await keeper.readCsrfToken() })
      if (response.status === 401) await keeper.endSession('unauthorized')
      return response
    }
    const bearer = await keeper.getAccessToken()
    let response = await http.send(path, { ...sent, bearer })
    if (response.status === 401) {
      await response.body?.cancel()
      response = await http.send(path, { ...sent, bearer: await keeper.renewAccessToken(bearer) })
      if (response.status === 401) await keeper.endSession('unauthorized')
    }
    return response
  }

  async function request<T>(
    method: Method,
    path: string,
    input: { body?: unknown; authenticated?: boolean } = {},
  ): Promise<T> {
    return http.readAnswer<T>(await exchange(path, { method, ...input }))
  }

  async function readVersioned(response: Response): Promise<VersionedData> {
    const data = await http.readAnswer<Record<string, unknown>>(response)
    return { data, etag: response.headers.get('etag') ?? '' }
  }

  function dataDocument(path: string): DataDocument {
    const write = async (method: 'PUT' | 'PATCH', body: Record<string, unknown>, etag: string) =>
      readVersioned(
        await exchange(path, {
          method,
          body,
          authenticated: true,
          contentType: method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
          headers: { 'if-match': etag },
        }),
      )
    return {
      get: async () => readVersioned(await exchange(path, { authenticated: true })),
      replace: (data, etag) => write('PUT', data, etag),
      patch: (patch, etag) => write('PATCH', patch, etag),
    }
  }

  async function keepSignIn(answer: SignInJson): Promise<SignedIn> {
    if (transport === 'token') await keeper.storeTokenAnswer(answer as TokenAnswer)
    else await keeper.storeCookieSession(answer.session_id, answer.csrf_token ?? null)
    return { user: readUser(answer.user), sessionId: answer.session_id }
  }

  return {
    register: async (input) => readUser(await request<UserJson>('POST', '/v1/auth/register', { body: input })),

    signIn: async ({ username, password }) =>
      keepSignIn(
        await request<SignInJson>('POST', '/v1/auth/login', { body: { username, password, mode: transport } }),
      ),

    completeSignIn: async ({ challenge, ...proof }) =>
      keepSignIn(await request<SignInJson>('POST', '/v1/auth/mfa', { body: { challenge, ...proofBody(proof) } })),

    async reauthenticate({ password, ...proof }) {
      const answer = await request<
        { session_id: string; authenticated_at: string; amr: string[] } & Partial<TokenAnswer>
      >('POST', '/v1/auth/reauthenticate', {
        body: { ...(password === undefined ? {} : { password }), ...proofBody(proof) },
        authenticated: true,
      })
      // A bearer session gets an access token carrying the new auth_time and amr.
      if (answer.access_token !== undefined && answer.expires_in !== undefined) {
        await keeper.storeTokenAnswer({
          access_token: answer.access_token,
          expires_in: answer.expires_in,
          session_id: answer.session_id,
        })
      }
      return { authenticatedAt: new Date(answer.authenticated_at), amr: answer.amr }
    },

    async signOut() {
      try {
        await request<void>('POST', '/v1/auth/logout', { authenticated: true })
      } catch (error) {
        // Already ended (or never started) at Tessera: forgetting it here is all that is left.
        const isGone =
          error instanceof TesseraError &&
          (error.status === 401 || error.code === 'not_signed_in' || error.code === 'invalid_grant')
        if (!isGone) throw error
      }
      await keeper.endSession('signed_out')
    },

    async me() {
      const answer = await request<{ user: UserJson; session_id: string }>('GET', '/v1/me', { authenticated: true })
      return { user: readUser(answer.user), sessionId: answer.session_id }
    },

    changePassword: async ({ currentPassword, newPassword }) =>
      keepSignIn(
        await request<SignInJson>('POST', '/v1/me/password', {
          body: { current_password: currentPassword, new_password: newPassword },
          authenticated: true,
        }),
      ),

    async tokenFromCookieSession() {
      const answer = await request<TokenAnswer>('POST', '/v1/auth/token', { authenticated: true })
      if (transport === 'cookie') await keeper.storeTokenAnswer(answer)
      return { accessToken: answer.access_token, expiresInSeconds: answer.expires_in, sessionId: answer.session_id }
    },

    getAccessToken: () => keeper.getAccessToken(),

    async fetch(input, init = {}) {
      const send = (bearer: string) => {
        const headers = new Headers(init.headers)
        headers.set('authorization', `Bearer ${bearer}`)
        return appFetch(input, { ...init, headers })
      }
      const bearer = await keeper.getAccessToken()
      const response = await send(bearer)
      if (response.status !== 401 || !isReplayable(init.body)) return response
      await response.body?.cancel()
      return send(await keeper.renewAccessToken(bearer))
    },

    sessions: {
      async list() {
        const answer = await request<{ sessions: SessionJson[] }>('GET', '/v1/sessions', { authenticated: true })
        return answer.sessions.map(readSession)
      },
      async end(sessionId) {
        await request<void>('DELETE', `/v1/sessions/${encodeURIComponent(sessionId)}`, { authenticated: true })
        if (sessionId === (await keeper.readSessionId())) await keeper.endSession('signed_out')
      },
      async endOthers() {
        return (await request<{ ended: number }>('DELETE', '/v1/sessions?scope=others', { authenticated: true })).ended
      },
    },

    async signInWithDevice({ deviceId, deviceSecret }) {
      const body = {
        device_id: deviceId,
        mode: transport,
        ...(deviceSecret === undefined ? {} : { device_secret: deviceSecret }),
      }
      const answer = await request<SignInJson & { device: DeviceJson; device_secret?: string }>(
        'POST',
        '/v1/auth/device',
        { body },
      )
      return {
        ...(await keepSignIn(answer)),
        device: readDevice(answer.device),
        deviceSecret: answer.device_secret ?? null,
      }
    },

    addCredentials: async (input) =>
      readUser(await request<UserJson>('POST', '/v1/me/credentials', { body: input, authenticated: true })),

    devices: {
      async list() {
        return (await request<{ devices: DeviceJson[] }>('GET', '/v1/me/devices', { authenticated: true })).devices.map(
          readDevice,
        )
      },
      async link(deviceId) {
        const answer = await request<DeviceJson & { device_secret: string }>('POST', '/v1/me/devices', {
          body: { device_id: deviceId },
          authenticated: true,
        })
        return { device: readDevice(answer), deviceSecret: answer.device_secret }
      },
      async unlink(id) {
        await request<void>('DELETE', `/v1/me/devices/${encodeURIComponent(id)}`, { authenticated: true })
      },
    },

    sessionData: dataDocument('/v1/sessions/current/data'),
    playerData: dataDocument('/v1/me/data'),

    async createTicket(audience) {
      const answer = await request<{ ticket: string; audience: string; expires_at: string; expires_in: number }>(
        'POST',
        '/v1/tickets',
        {
          body: { audience },
          authenticated: true,
        },
      )
      return {
        ticket: answer.ticket,
        audience: answer.audience,
        expiresAt: answer.expires_at,
        expiresInSeconds: answer.expires_in,
      }
    },

    onSessionEnd: (listener) => keeper.onSessionEnd(listener),
    close: () => tabs.close(),
  }
}

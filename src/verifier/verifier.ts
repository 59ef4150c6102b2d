/**
 * Verifies Tessera access tokens in a resource server, offline, against Tessera's JWKS. The
 * rules are Tessera's own: compact JWS only, an algorithm allow-list (EdDSA and ES256, RS256 when
 * asked for) with the algorithm bound to the key, a `kid` that must name a published key, `typ: at+jwt`, exact
 * issuer and audience, `exp`/`nbf`/`iat` with a small leeway, and every claim Tessera sets.
 * Keys come only from the configured JWKS URL: header fields such as `jku`, `x5u` or `jwk` are
 * never followed, and an unknown `crit` is refused. jose does the cryptography.
 */
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose'
import { createLivenessCheck, type CheckLiveness, type IntrospectionOptions } from './introspection-client.ts'
import { createKeySet, type KeySet } from './key-set.ts'
import { followRevocations, type RevocationFollower, type RevocationStreamOptions } from './revocation-stream.ts'
import { VerifierError } from './verifier-error.ts'

export type AccessTokenAlgorithm = 'EdDSA' | 'ES256' | 'RS256'

export interface VerifierOptions {
  /** Tessera's public URL (`TESSERA_PUBLIC_URL`): the exact `iss` of its tokens. */
  issuer: string
  /** The `aud` this resource server accepts (`TESSERA_AUDIENCE`). */
  audience: string
  /** Default: `<issuer>/.well-known/jwks.json`. */
  jwksUrl?: string | URL
  /**
   * The algorithms accepted: a subset of EdDSA, ES256 and RS256. Default EdDSA and ES256; list
   * RS256 when Tessera signs with it (`TESSERA_SIGNING_ALGORITHM=RS256`, for RSA-only gateways).
   */
  algorithms?: readonly AccessTokenAlgorithm[]
  /** Clock skew tolerated on exp, nbf and iat; 0 to 30, default 5. */
  leewaySeconds?: number
  /** Tokens older than this are refused whatever their exp. Default 900 (Tessera's upper bound). */
  maxTokenAgeSeconds?: number
  jwks?: { maxAgeSeconds?: number; cooldownSeconds?: number; timeoutMs?: number }
  /** Checks every token with Tessera too (briefly cached): revocations apply at once. */
  introspection?: IntrospectionOptions
  /**
   * Follows Tessera's event stream: from then on, tokens of an ended session are refused at once
   * (by `sid`) and `onSessionEnded` is called, so the application can close that player's socket.
   * `whenCut` chooses what happens while the stream is cut (default `open`); see revocation-stream.ts.
   */
  revocationStream?: RevocationStreamOptions
  /** Tokens kept as verified until their exp, so repeat requests skip the signature. Default 10000; 0 turns it off. */
  verifiedTokenCacheSize?: number
  /** For tests and unusual runtimes. */
  fetch?: typeof fetch
}

/** Who a verified token speaks for. */
export interface Principal {
  /** `sub`: the user's id. */
  userId: string
  /** `sid`: the Tessera session. */
  sessionId: string
  /** `client_id`: the application the user signed in to. */
  clientId: string
  /** From the token, or the current ones when introspection is on. */
  roles: readonly string[]
  /** `jti`. */
  tokenId: string
  issuedAt: Date
  expiresAt: Date
  /** `auth_time`: when the user last authenticated in this session (sign-in or re-authentication); null when absent. */
  authTime: Date | null
  /**
   * `amr` (RFC 8176): how. `pwd` password, `otp` TOTP or recovery code, `hwk`/`swk` a passkey
   * held in hardware or synced, `user` user presence, `mfa` a second factor (or a passkey that
   * verified the user). Empty when absent.
   */
  amr: readonly string[]
  /**
   * `preferred_username`: the account's username when the token was issued, for display only
   * (show who is playing). Identify the user by `userId` (`sub`): a username may be taken by
   * another account after its owner deleted theirs. Null when absent.
   */
  username: string | null
  /** Every verified claim. */
  claims: Readonly<JWTPayload>
}

/** The request parts the verifier reads: any Node, Fastify or similar request will do. */
export interface RequestWithHeaders {
  headers: Record<string, string | string[] | undefined>
  /** Node's raw header list: read instead of `headers` when present, which Node builds lazily. */
  rawHeaders?: readonly string[]
}

export interface Verifier {
  /**
   * The principal of a valid token; throws VerifierError otherwise.
   *
   * @example
   * ```ts
   * const principal = await verifier.verifyAccessToken(token)
   * ```
   */
  verifyAccessToken(token: string): Promise<Principal>
  /**
   * The principal of the request's `Authorization: Bearer` token; throws VerifierError
   * (`missing_token` without one). Tokens are read from that header only, never the URL.
   *
   * @example
   * ```ts
   * createServer(async (request, response) => {
   *   const principal = await verifier.authenticateRequest(request)
   * })
   * ```
   */
  authenticateRequest(request: RequestWithHeaders): Promise<Principal>
  /** True while the event stream is connected (always false without `revocationStream`). */
  isFollowingRevocations(): boolean
  /** Resolves once the event stream first connects (at once without `revocationStream`). */
  revocationsReady(): Promise<void>
  /** Stops following the event stream. */
  close(): void
}

const compactJwsPattern = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const maxTokenLength = 8192
const bearerPattern = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i
const supportedAlgorithms: readonly AccessTokenAlgorithm[] = ['EdDSA', 'ES256', 'RS256']
// RS256 only when asked for: an allow-list is as short as the deployment allows (RFC 8725 §3.1).
const defaultAlgorithms: readonly AccessTokenAlgorithm[] = ['EdDSA', 'ES256']

/** The Authorization header: a string, undefined when absent, null when sent more than once. */
function readAuthorization(request: RequestWithHeaders): string | undefined | null {
  const raw = request.rawHeaders
  if (!raw) {
    const header = request.headers.authorization
    return Array.isArray(header) ? null : header
  }
  let found: string | undefined
  for (let index = 0; index < raw.length - 1; index += 2) {
    const name = raw[index]
    if (name?.length !== 13 || name.toLowerCase() !== 'authorization') continue
    if (found !== undefined) return null
    found = raw[index + 1]
  }
  return found
}

function readPrincipal(payload: JWTPayload): Principal | null {
  const {
    sub,
    sid,
    roles,
    client_id: clientId,
    jti,
    iat,
    exp,
    auth_time: authTime,
    amr,
  } = payload as Record<string, unknown>
  const username = (payload as Record<string, unknown>).preferred_username
  if (
    (username !== undefined && typeof username !== 'string') ||
    (authTime !== undefined && typeof authTime !== 'number') ||
    (amr !== undefined && !(Array.isArray(amr) && amr.every((method) => typeof method === 'string')))
  ) {
    return null
  }
  if (
    typeof sub !== 'string' ||
    typeof sid !== 'string' ||
    typeof clientId !== 'string' ||
    typeof jti !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    !Array.isArray(roles) ||
    !roles.every((role) => typeof role === 'string')
  ) {
    return null
  }
  return {
    userId: sub,
    sessionId: sid,
    clientId,
    roles: roles as string[],
    tokenId: jti,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
    authTime: typeof authTime === 'number' ? new Date(authTime * 1000) : null,
    amr: Array.isArray(amr) ? (amr as string[]) : [],
    username: typeof username === 'string' ? username : null,
    claims: payload,
  }
}

/** Failures to reach the JWKS, as opposed to tokens that do not verify. */
function isKeySetUnavailable(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true
  if (error instanceof errors.JOSEError) return error.code === 'ERR_JOSE_GENERIC'
  // fetch itself failed (connection refused, DNS, abort).
  return error instanceof TypeError || (error instanceof Error && error.name === 'AbortError')
}

function validateOptions(options: VerifierOptions): void {
  if (!URL.canParse(options.issuer)) throw new TypeError('issuer must be an absolute URL')
  if (typeof options.audience !== 'string' || options.audience === '') throw new TypeError('audience is required')
  const leeway = options.leewaySeconds ?? 5
  if (!(leeway >= 0 && leeway <= 30)) throw new TypeError('leewaySeconds must be between 0 and 30')
  const algorithms = options.algorithms ?? defaultAlgorithms
  if (algorithms.length === 0 || algorithms.some((algorithm) => !supportedAlgorithms.includes(algorithm))) {
    throw new TypeError('algorithms must be a non-empty subset of EdDSA, ES256 and RS256')
  }
}

/**
 * Creates a verifier for one Tessera issuer and one audience.
 *
 * @example
 * ```ts
 * import { createVerifier } from 'tessera-verifier'
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example', audience: 'https://game.example' })
 * const principal = await verifier.verifyAccessToken(token)
 * console.log(principal.userId, principal.roles)
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  validateOptions(options)
  const issuer = options.issuer
  const leewaySeconds = options.leewaySeconds ?? 5
  const algorithms = [...(options.algorithms ?? defaultAlgorithms)]
  const maxTokenAgeSeconds = options.maxTokenAgeSeconds ?? 900
  const cacheSize = options.verifiedTokenCacheSize ?? 10_000
  const baseUrl = issuer.replace(/\/+$/, '')
  const keySet: KeySet = createKeySet({
    url: new URL(options.jwksUrl ?? `${baseUrl}/.well-known/jwks.json`),
    ...options.jwks,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
  const checkLiveness: CheckLiveness | null = options.introspection
    ? createLivenessCheck({
        ...options.introspection,
        issuer: baseUrl,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      })
    : null
  /**
   * Verified tokens by signature segment, each with the whole token (compared in full on a hit)
   * and the generation of the key set that verified it. Hashing the 86-character signature
   * rather than the whole token is most of what a hit saves.
   */
  const verified = new Map<string, { token: string; principal: Principal; generation: number }>()
  const follower: RevocationFollower | null = options.revocationStream
    ? followRevocations({
        ...options.revocationStream,
        issuer: baseUrl,
        // An ended session's tokens are all past their maximum age by then.
        rememberMs: (maxTokenAgeSeconds + leewaySeconds * 2) * 1000,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      })
    : null
  const signatureOf = (token: string) => token.slice(token.lastIndexOf('.') + 1)

  function findVerified(token: string): Principal | null {
    const key = signatureOf(token)
    const hit = verified.get(key)
    if (hit?.token !== token) return null
    const nowMs = Date.now()
    // A stale or replaced key set may have dropped the token's key: check it again.
    if (
      hit.generation === keySet.generation &&
      !keySet.isStale(nowMs) &&
      nowMs < hit.principal.expiresAt.getTime() + leewaySeconds * 1000
    ) {
      return hit.principal
    }
    verified.delete(key)
    return null
  }

  function rememberVerified(token: string, principal: Principal, generation: number): void {
    if (cacheSize <= 0) return
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value ?? '')
    verified.set(signatureOf(token), { token, principal, generation })
  }

  async function verifySignedToken(token: string): Promise<Principal> {
    const invalid = (cause?: unknown) => new VerifierError('invalid_token', 'The access token is not valid.', { cause })
    if (token.length > maxTokenLength || !compactJwsPattern.test(token)) throw invalid()
    let kid: unknown
    try {
      kid = decodeProtectedHeader(token).kid
    } catch (error) {
      throw invalid(error)
    }
    // Tessera always names its key; a token without a kid would let the key set pick one.
    if (typeof kid !== 'string' || kid === '') throw invalid()
    let payload: JWTPayload
    try {
      const result = await jwtVerify(token, keySet.resolveKey, {
        algorithms,
        issuer,
        audience: options.audience,
        typ: 'at+jwt',
        clockTolerance: leewaySeconds,
        maxTokenAge: maxTokenAgeSeconds + leewaySeconds,
        requiredClaims: ['iss', 'aud', 'sub', 'sid', 'client_id', 'jti', 'iat', 'exp'],
      })
      payload = result.payload
    } catch (error) {
      if (isKeySetUnavailable(error)) {
        throw new VerifierError('unavailable', 'The Tessera key set could not be fetched.', { cause: error })
      }
      throw invalid(error)
    }
    const principal = readPrincipal(payload)
    if (!principal) throw invalid()
    return principal
  }

  function confirmFollowed(principal: Principal): Principal {
    if (!follower) return principal
    switch (follower.check(principal.sessionId, principal.issuedAt.getTime())) {
      case 'ok':
        return principal
      case 'ended':
        throw new VerifierError('invalid_token', 'The session has ended.')
      case 'before_resync':
        throw new VerifierError('invalid_token', 'The access token predates a resynchronisation; refresh it.')
      case 'cut':
        throw new VerifierError('unavailable', "Tessera's event stream is cut, and this server fails closed.")
    }
  }

  async function confirmLiveness(token: string, principal: Principal): Promise<Principal> {
    if (!checkLiveness) return principal
    const liveness = await checkLiveness(token)
    if (!liveness.active) throw new VerifierError('invalid_token', 'The access token is no longer active.')
    return liveness.roles ? { ...principal, roles: liveness.roles } : principal
  }

  async function verifyAccessToken(token: string): Promise<Principal> {
    let principal = findVerified(token)
    if (!principal) {
      principal = await verifySignedToken(token)
      rememberVerified(token, principal, keySet.generation)
    }
    const followed = confirmFollowed(principal)
    return checkLiveness ? confirmLiveness(token, followed) : followed
  }

  return {
    verifyAccessToken,
    isFollowingRevocations: () => follower?.isConnected() ?? false,
    revocationsReady: () => follower?.connected ?? Promise.resolve(),
    close: () => follower?.close(),
    async authenticateRequest(request) {
      const header = readAuthorization(request)
      if (header === undefined || header === '') throw new VerifierError('missing_token', 'Send a bearer token.')
      // Two Authorization headers are ambiguous: refuse rather than pick one.
      if (header === null) throw new VerifierError('invalid_token', 'The access token is not valid.')
      // The hot path: a token verified before is found by the text after the scheme (the cache
      // holds verified tokens only, so a hit needs no syntax check); anything else is parsed.
      const isBearer =
        header.length > 7 && header.charCodeAt(6) === 0x20 && header.slice(0, 6).toLowerCase() === 'bearer'
      const hit = isBearer ? findVerified(header.slice(7)) : null
      if (hit) {
        const followed = confirmFollowed(hit)
        return checkLiveness ? confirmLiveness(header.slice(7), followed) : followed
      }
      const parsed = bearerPattern.exec(header)?.[1]
      if (parsed === undefined) throw new VerifierError('invalid_token', 'The access token is not valid.')
      return verifyAccessToken(parsed)
    },
  }
}

/**
 * Throws `insufficient_role` unless the principal holds every one of `roles`.
 *
 * @example
 * ```ts
 * requireRoles(principal, ['admin'])
 * ```
 */
export function requireRoles(principal: Principal, roles: readonly string[]): void {
  if (!roles.every((role) => principal.roles.includes(role))) {
    throw new VerifierError('insufficient_role', 'The token does not carry a required role.')
  }
}

/**
 * Throws `insufficient_user_authentication` unless the token's `amr` holds every one of
 * `methods`: for example `['mfa']` for any second factor, `['otp']` for a one-time code.
 *
 * @example
 * ```ts
 * requireAuthenticationMethods(principal, ['mfa'])
 * ```
 */
export function requireAuthenticationMethods(principal: Principal, methods: readonly string[]): void {
  if (!methods.every((method) => principal.amr.includes(method))) {
    throw new VerifierError(
      'insufficient_user_authentication',
      'The token does not carry a required authentication method.',
    )
  }
}

/**
 * Throws `insufficient_user_authentication` unless the user authenticated (`auth_time`) at most
 * `maxAgeSeconds` ago; a token without `auth_time` is refused.
 *
 * @example
 * ```ts
 * requireRecentAuthentication(principal, 600)
 * ```
 */
export function requireRecentAuthentication(principal: Principal, maxAgeSeconds: number, now: Date = new Date()): void {
  if (principal.authTime === null || now.getTime() - principal.authTime.getTime() > maxAgeSeconds * 1000) {
    throw new VerifierError('insufficient_user_authentication', 'The authentication is too old for this request.')
  }
}

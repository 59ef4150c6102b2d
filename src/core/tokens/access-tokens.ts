/**
 * Access tokens: short-lived JWTs (RFC 9068 profile, `typ: at+jwt`), verified with jose and
 * signed with it too, except Ed25519 and P-256 tokens, signed on the event loop (compact-jws.ts:
 * cheaper than jose's WebCrypto round trip through the thread pool, and never queued behind
 * password hashes there). Verification pins the algorithm of the key named by `kid`, the
 * issuer and the audience, and requires every claim Tessera puts in. A bounded cache of
 * already-verified tokens (found by signature, matched on the exact token text, dropped at
 * `exp`) keeps repeat checks off the signature path (and off libuv's pool, which password
 * hashing also uses).
 */
import { jwtVerify, SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose'
import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.ts'
import { isSignedInPlace, signCompactJws } from './compact-jws.ts'
import type { KeyRing } from './signing-keys.ts'
import { signingAlgorithms } from './store.ts'

export interface AccessTokenSettings {
  issuer: string
  audience: string
  /** The `client_id` claim: the application users sign in to. */
  clientId: string
  accessTokenTtlSeconds: number
  leewaySeconds: number
}

export interface AccessTokenClaims {
  sub: string
  sid: string
  roles: string[]
  /** `client_id` (RFC 9068 §2.2). */
  clientId: string
  jti: string
  iat: number
  exp: number
  /** `auth_time` (seconds), when the token carries it. */
  authTime: number | null
  /** `amr` (RFC 8176), empty when the token carries none. */
  amr: string[]
}

export interface AccessTokens {
  /**
   * `authentication` (the session's latest) becomes `auth_time` and `amr` (OpenID Connect Core
   * §2, RFC 8176), so a resource server can demand a recent or multi-factor authentication.
   */
  issueAccessToken(input: {
    userId: string
    sessionId: string
    roles: readonly string[]
    /**
     * Becomes `preferred_username` (OpenID Connect Core §5.1): for display only, so a game server
     * can show who is playing without another call. The subject is `sub`; a name may be reused
     * after its account is deleted.
     */
    username?: string
    authentication?: { authenticatedAt: Date; amr: readonly string[] }
  }): Promise<{
    accessToken: string
    expiresInSeconds: number
  }>
  /** The claims of a valid token, or null for anything else (never throws for bad input). */
  verifyAccessToken(token: string): Promise<AccessTokenClaims | null>
  /** Drops verified tokens whose key has retired (they would be refused at their next check anyway). */
  forgetRetiredKeys(): number
}

const maxCachedTokens = 100_000
// Compact JWS only: three base64url segments. Anything else (JSON serialization, JWE) is refused
// before jose sees it; 8 KiB is far above any token Tessera issues.
const compactJwsPattern = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const maxTokenLength = 8192

function readClaims(payload: JWTPayload): AccessTokenClaims | null {
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
  if (
    typeof sub !== 'string' ||
    typeof sid !== 'string' ||
    typeof clientId !== 'string' ||
    typeof jti !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    !Array.isArray(roles) ||
    !roles.every((role) => typeof role === 'string') ||
    (authTime !== undefined && typeof authTime !== 'number') ||
    (amr !== undefined && !(Array.isArray(amr) && amr.every((method) => typeof method === 'string')))
  ) {
    return null
  }
  return {
    sub,
    sid,
    roles,
    clientId,
    jti,
    iat,
    exp,
    authTime: authTime ?? null,
    amr: (amr as string[] | undefined) ?? [],
  }
}

export function createAccessTokens(deps: {
  keyRing: KeyRing
  clock: Clock
  settings: AccessTokenSettings
}): AccessTokens {
  const { keyRing, clock, settings } = deps
  // Keyed by the signature segment, holding the whole token, compared in full on a hit: hashing
  // 86 characters instead of the whole token is most of what a repeat check costs.
  const verified = new Map<string, { token: string; claims: AccessTokenClaims; kid: string }>()
  const signatureOf = (token: string) => token.slice(token.lastIndexOf('.') + 1)

  function resolveKey(header: JWTHeaderParameters) {
    const found = typeof header.kid === 'string' ? keyRing.findVerificationKey(header.kid) : null
    if (!found || found.algorithm !== header.alg) throw new Error('unknown key')
    return found.publicKey
  }

  function isLive(claims: AccessTokenClaims, nowSeconds: number): boolean {
    return nowSeconds < claims.exp + settings.leewaySeconds
  }

  return {
    async issueAccessToken({ userId, sessionId, roles, username, authentication }) {
      const key = keyRing.currentSigningKey()
      const issuedAt = Math.floor(clock.now().getTime() / 1000)
      const authenticationClaims = authentication
        ? { auth_time: Math.floor(authentication.authenticatedAt.getTime() / 1000), amr: [...authentication.amr] }
        : {}
      // A guest has no username to show.
      const nameClaim = username === undefined || username === '' ? {} : { preferred_username: username }
      const { algorithm, kid } = key
      const header = { alg: algorithm, kid, typ: 'at+jwt' }
      const privateClaims = {
        sid: sessionId,
        roles: [...roles],
        client_id: settings.clientId,
        ...nameClaim,
        ...authenticationClaims,
      }
      const expiresAt = issuedAt + settings.accessTokenTtlSeconds
      const jti = randomUUID()
      const accessToken = isSignedInPlace(algorithm)
        ? signCompactJws(
            { ...header, alg: algorithm },
            // In the order SignJWT writes them: the same claims give the same bytes either way.
            {
              ...privateClaims,
              iss: settings.issuer,
              aud: settings.audience,
              sub: userId,
              iat: issuedAt,
              exp: expiresAt,
              jti,
            },
            key.privateKeyObject,
          )
        : await new SignJWT(privateClaims)
            .setProtectedHeader(header)
            .setIssuer(settings.issuer)
            .setAudience(settings.audience)
            .setSubject(userId)
            .setIssuedAt(issuedAt)
            .setExpirationTime(expiresAt)
            .setJti(jti)
            .sign(key.privateKey)
      return { accessToken, expiresInSeconds: settings.accessTokenTtlSeconds }
    },

    async verifyAccessToken(token) {
      const now = clock.now()
      const nowSeconds = now.getTime() / 1000
      const signature = signatureOf(token)
      const hit = verified.get(signature)
      if (hit?.token === token) {
        if (isLive(hit.claims, nowSeconds) && keyRing.findVerificationKey(hit.kid) !== null) return hit.claims
        verified.delete(signature)
        return null
      }
      if (token.length > maxTokenLength || !compactJwsPattern.test(token)) return null
      let claims: AccessTokenClaims | null
      let kid: string
      try {
        const result = await jwtVerify(token, resolveKey, {
          algorithms: [...signingAlgorithms],
          issuer: settings.issuer,
          audience: settings.audience,
          typ: 'at+jwt',
          clockTolerance: settings.leewaySeconds,
          currentDate: now,
          requiredClaims: ['iss', 'aud', 'sub', 'sid', 'client_id', 'jti', 'iat', 'exp'],
          maxTokenAge: settings.accessTokenTtlSeconds + settings.leewaySeconds,
        })
        claims = readClaims(result.payload)
        kid = String(result.protectedHeader.kid)
      } catch {
        // Every verification failure is the same answer to the caller: not a valid token.
        return null
      }
      if (!claims) return null
      if (verified.size >= maxCachedTokens) {
        const oldest = verified.keys().next().value
        if (oldest !== undefined) verified.delete(oldest)
      }
      verified.set(signature, { token, claims, kid })
      return claims
    },

    forgetRetiredKeys() {
      let forgotten = 0
      for (const [signature, entry] of verified) {
        if (keyRing.findVerificationKey(entry.kid) === null) {
          verified.delete(signature)
          forgotten += 1
        }
      }
      return forgotten
    },
  }
}

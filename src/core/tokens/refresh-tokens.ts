/**
 * Refresh-token families. A session in token transport is a family: its first refresh token is
 * random (256 bits); each rotation replaces the current token by a successor and keeps the hash
 * of every earlier one until the session ends. Presenting an earlier token is reuse: someone
 * else holds a copy, so the whole family (the session, and with it every access token that
 * names it in `sid`) is ended.
 *
 * A client that loses the answer to a refresh (flaky network, two tabs) retries with the same
 * token. Within `graceSeconds` of the rotation, that retry gets the very same successor instead
 * of a revocation. The store keeps only hashes, so the successor cannot be read back: it is
 * derived, HMAC-SHA-256(server secret, presented token), and recomputed for the retry. Without
 * the secret, which never leaves the server, nobody can compute a successor from a token.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import type { Clock } from '../clock.ts'
import { createRandomToken, hashToken } from '../secrets.ts'
import type { SessionRecord } from '../sessions/store.ts'
import type { RefreshTokenRecord, RefreshTokenStore } from './store.ts'

export interface RefreshTokenSettings {
  /** How long after a rotation a repeat of the replaced token is a retry, not reuse. */
  refreshGraceSeconds: number
}

export type RefreshOutcome =
  | { outcome: 'rotated' | 'grace'; session: SessionRecord; refreshToken: string }
  | { outcome: 'reused'; session: SessionRecord }
  | { outcome: 'missing' }

export interface RefreshTokens {
  /** Opens the family of a new session and returns its first token. */
  startFamily(sessionId: string): Promise<string>
  /** Presents a token: rotation, grace retry (same successor), reuse (family ended) or missing. */
  rotateRefreshToken(refreshToken: string): Promise<RefreshOutcome>
  /** The family member this token is (current or earlier), or null. */
  findRefreshToken(refreshToken: string): Promise<RefreshTokenRecord | null>
}

const refreshTokenBytes = 32

/** The successor of `refreshToken`: the same input always gives the same successor. */
export function deriveSuccessorToken(secret: Uint8Array | KeyObject, refreshToken: string): string {
  return createHmac('sha256', secret).update(refreshToken, 'utf8').digest('base64url')
}

export function createRefreshTokens(deps: {
  store: RefreshTokenStore
  clock: Clock
  secret: Uint8Array
  settings: RefreshTokenSettings
}): RefreshTokens {
  const { store, clock, secret, settings } = deps
  if (secret.length < 32) throw new TypeError('the refresh-token secret must be at least 32 bytes')
  // Made once: an HMAC keyed with raw bytes imports them as a new key on every call, which
  // costs several times the HMAC itself.
  const successorKey = createSecretKey(secret)

  return {
    async startFamily(sessionId) {
      const refreshToken = createRandomToken(refreshTokenBytes)
      await store.insertRefreshToken({ tokenHash: hashToken(refreshToken), sessionId, issuedAt: clock.now() })
      return refreshToken
    },

    async rotateRefreshToken(refreshToken) {
      const now = clock.now()
      const successor = deriveSuccessorToken(successorKey, refreshToken)
      const rotation = await store.rotateRefreshToken({
        presentedHash: hashToken(refreshToken),
        successorHash: hashToken(successor),
        now,
        graceStartsAt: new Date(now.getTime() - settings.refreshGraceSeconds * 1000),
      })
      if (rotation.outcome === 'rotated' || rotation.outcome === 'grace') {
        return { outcome: rotation.outcome, session: rotation.session, refreshToken: successor }
      }
      return rotation
    },

    findRefreshToken: (refreshToken) => store.findRefreshToken(hashToken(refreshToken)),
  }
}

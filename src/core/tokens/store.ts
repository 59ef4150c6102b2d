import type { SessionRecord } from '../sessions/store.ts'

/**
 * The algorithms Tessera signs access tokens with: Ed25519 by default, P-256 and RSA (2048-bit,
 * for gateways that verify nothing else) on request. The only list: config, routes, the CLI and
 * verification all read it, so no place can accept an algorithm the others do not.
 */
export const signingAlgorithms = ['EdDSA', 'ES256', 'RS256'] as const

export type SigningAlgorithm = (typeof signingAlgorithms)[number]

/** The algorithm a stored key names; anything else is a damaged row, never a default. */
export function readSigningAlgorithm(value: unknown): SigningAlgorithm {
  const algorithm = signingAlgorithms.find((known) => known === value)
  if (algorithm === undefined) throw new TypeError(`unknown signing algorithm in the store: ${String(value)}`)
  return algorithm
}

export interface SigningKeyRecord {
  kid: string
  algorithm: SigningAlgorithm
  /** Public JWK as JSON text. */
  publicJwk: string
  /** Private JWK encrypted with the instance's master key (never stored in clear). */
  privateJwkCiphertext: string
  createdAt: Date
  /** From this instant the key signs new tokens (until a newer key activates). */
  activatesAt: Date
  /** From this instant the key neither verifies nor is published; null while in service. */
  retiresAt: Date | null
}

export interface SigningKeyStore {
  /** Inserts a key; the kid is unique. */
  insertSigningKey(key: SigningKeyRecord): Promise<void>
  /** Every key not yet retired at `now`, oldest first. */
  listUsableSigningKeys(now: Date): Promise<SigningKeyRecord[]>
  /**
   * Inserts `key` and, in the same step, gives every key still in service (`retiresAt` null)
   * the retirement instant `predecessorsRetireAt`. Keys already retiring keep their instant.
   */
  rotateSigningKey(key: SigningKeyRecord, predecessorsRetireAt: Date): Promise<void>
  /**
   * The emergency form of `rotateSigningKey`: inserts `key` and, in the same step, retires every
   * other key at `retireAt` at the latest (keys retiring later, or not at all, retire then).
   */
  replaceSigningKeys(key: SigningKeyRecord, retireAt: Date): Promise<void>
  /** Deletes keys retired at or before `now`, private parts included; returns how many. */
  deleteRetiredSigningKeys(now: Date): Promise<number>
}

/** One token of a refresh-token family (a session). Only the SHA-256 of the token is kept. */
export interface RefreshTokenRecord {
  tokenHash: string
  sessionId: string
  issuedAt: Date
  /** When it was replaced; null while it is the family's current token. */
  rotatedAt: Date | null
  /** The hash of the token that replaced it. */
  successorHash: string | null
}

/**
 * What presenting a refresh token did. `rotated`: it was current and now has a successor.
 * `grace`: it was replaced less than the grace window ago by exactly this successor, which is
 * still current (a retry); nothing changed. `reused`: any other earlier token of the family;
 * the family (its session) has been deleted. `missing`: no family knows it.
 */
export type RefreshRotation =
  | { outcome: 'rotated'; session: SessionRecord }
  | { outcome: 'grace'; session: SessionRecord }
  | { outcome: 'reused'; session: SessionRecord }
  | { outcome: 'missing' }

export interface RefreshTokenStore {
  /** Records the first token of a session's family; the session must exist. */
  insertRefreshToken(record: { tokenHash: string; sessionId: string; issuedAt: Date }): Promise<void>
  /**
   * The atomic rotation step (one transaction). When `presentedHash` is current: marks it
   * rotated at `now` with `successorHash`, inserts the successor as current and moves the
   * session's `lastSeenAt` forward; returns the session as it was before. When it was rotated
   * after `graceStartsAt` to `successorHash` and that successor is still current: `grace`.
   * Any other known token: deletes the session (and so the family) and reports `reused`.
   */
  rotateRefreshToken(input: {
    presentedHash: string
    successorHash: string
    now: Date
    graceStartsAt: Date
  }): Promise<RefreshRotation>
  /** The family member with this hash, current or not, or null. */
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null>
  /** The current token of a session's family, or null (used to copy sessions between backends). */
  findCurrentRefreshToken(sessionId: string): Promise<RefreshTokenRecord | null>
}

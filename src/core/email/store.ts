/**
 * The email store: at most one address per account (deleted with it), unique by key, and the
 * single-use tokens mailed to it. Tokens are kept as SHA-256 digests only (256-bit random
 * tokens: a slow hash adds nothing), at most one per account and purpose, so a newer token
 * replaces (voids) the one before it.
 */

export interface EmailRecord {
  userId: string
  /** Where mail goes: trimmed, NFC, domain lower-cased (address.ts). */
  address: string
  /** The address lower-cased; unique. */
  addressKey: string
  /** When the owner proved they read mail sent there; null until then (and again after a change). */
  verifiedAt: Date | null
  /** The language mail to this address is written in. */
  language: MailLanguage
  updatedAt: Date
}

export const mailLanguages = ['en', 'ko'] as const

export type MailLanguage = (typeof mailLanguages)[number]

export type EmailTokenPurpose = 'password_reset' | 'email_verification'

export interface EmailTokenRecord {
  tokenHash: string
  userId: string
  purpose: EmailTokenPurpose
  /**
   * What the token is bound to: for a reset, a digest of the password hash it was issued under
   * (any password change voids it); for a verification, the key of the address it was sent to.
   */
  binding: string
  createdAt: Date
  expiresAt: Date
}

export type SetEmailOutcome = 'set' | 'unchanged' | 'email_taken' | 'no_user'

export interface EmailStore {
  /**
   * Gives the user this address (replacing theirs): `email_taken` when another account holds its
   * key (decided by the unique index), `unchanged` when it is already theirs (its verification
   * kept), `no_user` when the user does not exist. A new address starts unverified, and the
   * user's verification tokens go with the old one.
   */
  setEmail(record: EmailRecord): Promise<SetEmailOutcome>
  findEmail(userId: string): Promise<EmailRecord | null>
  findEmailByKey(addressKey: string): Promise<EmailRecord | null>
  /** Up to `limit` addresses whose key starts with `prefix`, by key (for finding users). */
  findEmailsByKeyPrefix(prefix: string, limit: number): Promise<EmailRecord[]>
  /** Marks the address verified while its key is still `addressKey`; false otherwise. */
  markEmailVerified(userId: string, addressKey: string, at: Date): Promise<boolean>
  /** Stores a token, replacing the user's earlier token of the same purpose. */
  saveEmailToken(record: EmailTokenRecord): Promise<void>
  /** The live token with this digest and purpose, or null (nothing changes). */
  findEmailToken(tokenHash: string, purpose: EmailTokenPurpose, now: Date): Promise<EmailTokenRecord | null>
  /** Deletes and returns the live token with this digest and purpose: only one caller ever gets it. */
  consumeEmailToken(tokenHash: string, purpose: EmailTokenPurpose, now: Date): Promise<EmailTokenRecord | null>
  /** Deletes the user's tokens of `purpose`; how many. */
  deleteEmailTokens(userId: string, purpose: EmailTokenPurpose): Promise<number>
  deleteExpiredEmailTokens(now: Date): Promise<number>
}

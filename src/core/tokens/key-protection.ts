/**
 * Private signing keys are stored encrypted (AES-256-GCM) under a key derived from the
 * instance's master key, so a copy of the database alone cannot mint tokens.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/** A sealed key that this master key does not open: it was sealed under another one. */
export class WrongMasterKeyError extends Error {
  constructor(options?: ErrorOptions) {
    super('a stored signing key does not open with this master key', options)
    this.name = 'WrongMasterKeyError'
  }
}

export interface KeyProtector {
  seal(plaintext: string): string
  open(sealed: string): string
}

const version = 'v1'

export function createKeyProtector(masterKey: Uint8Array): KeyProtector {
  if (masterKey.length < 32) throw new TypeError('the master key must be at least 32 bytes')
  const key = Buffer.from(hkdfSync('sha256', masterKey, new Uint8Array(0), 'tessera signing keys', 32))
  return {
    seal(plaintext) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return [
        version,
        iv.toString('base64url'),
        body.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.')
    },
    open(sealed) {
      const [prefix, iv, body, tag] = sealed.split('.')
      if (prefix !== version || !iv || !body || !tag) throw new Error('unreadable sealed key')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      try {
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
      } catch (error) {
        // GCM authentication fails for a wrong key (or altered bytes); say which, not "unsupported state".
        throw new WrongMasterKeyError({ cause: error })
      }
    },
  }
}

/** Derives an independent secret for another purpose (for example CSRF tokens). */
export function deriveSecret(masterKey: Uint8Array, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, new Uint8Array(0), purpose, 32))
}

/**
 * CSRF tokens for cookie sessions whose requests carry neither `Origin` nor `Sec-Fetch-Site`
 * (older clients): an HMAC of the session id under a server secret. It is bound to one session,
 * so a token of another session is refused, and it reveals nothing about the session token.
 */
import { createHmac } from 'node:crypto'
import { secretsEqual } from '../secrets.ts'

export interface CsrfTokens {
  createCsrfToken(sessionId: string): string
  isCsrfTokenValid(sessionId: string, presented: string): boolean
}

export function createCsrfTokens(secret: Uint8Array): CsrfTokens {
  const createCsrfToken = (sessionId: string): string =>
    createHmac('sha256', secret).update(sessionId, 'utf8').digest('base64url')
  return {
    createCsrfToken,
    isCsrfTokenValid: (sessionId, presented) => secretsEqual(createCsrfToken(sessionId), presented),
  }
}

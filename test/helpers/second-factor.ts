/** Enrolling a TOTP authenticator over HTTP, and the codes an authenticator app would show. */
import { decodeBase32, generateHotp, generateTotp } from '../../src/core/second-factor/totp.ts'
import type { TestServer } from './test-server.ts'

export interface Credential {
  bearer?: string
  cookie?: string
  headers?: Record<string, string>
}

export interface EnrolledTotp {
  secret: Uint8Array
  recoveryCodes: string[]
  /** The code the app shows now (or `offsetSteps` steps away). */
  codeAt(offsetSteps?: number): string
}

export function describeTotp(server: TestServer, secret: Uint8Array) {
  return (offsetSteps = 0) => {
    const step = Math.floor(server.clock.now().getTime() / 30_000) + offsetSteps
    return offsetSteps === 0 ? generateTotp(secret, server.clock.now().getTime()) : generateHotp(secret, step)
  }
}

/** Starts and confirms TOTP enrolment for the caller; the clock then moves to the next step. */
export async function enrolTotp(server: TestServer, credential: Credential): Promise<EnrolledTotp> {
  const started = await server.request('/v1/me/mfa/totp', { method: 'POST', ...credential })
  if (started.status !== 200) throw new Error(`enrolment failed: ${started.status} ${started.text}`)
  const secret = decodeBase32(started.json.secret)
  const codeAt = describeTotp(server, secret)
  const confirmed = await server.request('/v1/me/mfa/totp/confirm', { body: { code: codeAt() }, ...credential })
  if (confirmed.status !== 200) throw new Error(`confirmation failed: ${confirmed.status} ${confirmed.text}`)
  // The confirming code's step is spent: the next sign-in uses the next one.
  server.clock.advanceSeconds(30)
  return { secret, recoveryCodes: confirmed.json.recovery_codes, codeAt }
}

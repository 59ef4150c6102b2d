import type { onRequestHookHandler } from 'fastify'

/** What every route plugin that serves signed-in callers receives, beside its own operations. */
export interface AuthenticatedRouteDeps {
  /** onRequest hook that puts the caller on `request.auth` (plugins/authenticate.ts). */
  authenticate: onRequestHookHandler
}

export const authBodyLimitBytes = 16 * 1024
const maxUserAgentLength = 256

/** The user agent as stored with a session: bounded, and without control characters. */
export function readUserAgent(header: string | undefined): string {
  return (header ?? '').replace(/[\u0000-\u001f\u007f]/g, '').slice(0, maxUserAgentLength)
}

import type { onRequestHookHandler } from 'fastify'
import type { Config } from '../../config/load.ts'
import type { Core } from '../../core/core.ts'

export interface RouteDeps {
  core: Core
  sessionSettings: Config['sessions']
  allowedOrigins: readonly string[]
  authenticate: onRequestHookHandler
}

export const authBodyLimitBytes = 16 * 1024
const maxUserAgentLength = 256

/** The user agent as stored with a session: bounded, and without control characters. */
export function readUserAgent(header: string | undefined): string {
  return (header ?? '').replace(/[\u0000-\u001f\u007f]/g, '').slice(0, maxUserAgentLength)
}

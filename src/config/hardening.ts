/**
 * The parts of the configuration that harden Tessera against abuse: throttling, trusted proxies,
 * TLS, the refusal to send session cookies over plain HTTP to a non-loopback address, and the
 * refusal to serve open metrics there.
 */
import { accessSync, constants } from 'node:fs'
import { isIP } from 'node:net'
import type { ThrottleSettings } from '../core/throttle/throttle.ts'
import type { ReadSetting } from './schema.ts'

/** Failures below the hard cap kept for IPs a user has signed in from (see docs/throttling.md). */
export const knownNetworkReserve = 10
/** Per-IP counters (spraying, registrations, refreshes) are forgotten an hour after their last count. */
const networkForgetAfterSeconds = 3600

export interface TlsFiles {
  certFile: string
  keyFile: string
}

export function buildThrottleSettings(value: ReadSetting): ThrottleSettings {
  const delays = {
    baseDelaySeconds: value('TESSERA_THROTTLE_BASE_DELAY'),
    maxDelaySeconds: value('TESSERA_THROTTLE_MAX_DELAY'),
  }
  const forgetAfterSeconds = value('TESSERA_THROTTLE_FORGET_AFTER')
  const network = { ...delays, forgetAfterSeconds: networkForgetAfterSeconds }
  return {
    signIn: {
      account: { threshold: value('TESSERA_THROTTLE_ACCOUNT_THRESHOLD'), ...delays, forgetAfterSeconds },
      accountNetwork: { threshold: value('TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD'), ...delays, forgetAfterSeconds },
      network: { threshold: value('TESSERA_THROTTLE_IP_THRESHOLD'), ...network },
      maxFailures: value('TESSERA_THROTTLE_MAX_FAILURES'),
      knownNetworkReserve,
      knownNetworkTtlSeconds: value('TESSERA_THROTTLE_KNOWN_IP_TTL'),
    },
    requests: {
      registration: { counts: 'every', threshold: value('TESSERA_THROTTLE_REGISTER_THRESHOLD'), ...network },
      refresh: { counts: 'failures', threshold: value('TESSERA_THROTTLE_REFRESH_THRESHOLD'), ...network },
      introspection: { counts: 'failures', threshold: value('TESSERA_THROTTLE_INTROSPECT_THRESHOLD'), ...network },
      revocation: { counts: 'every', threshold: value('TESSERA_THROTTLE_REVOKE_THRESHOLD'), ...network },
      password_reset: { counts: 'every', threshold: value('TESSERA_THROTTLE_PASSWORD_RESET_THRESHOLD'), ...network },
      email_token: { counts: 'failures', threshold: value('TESSERA_THROTTLE_PASSWORD_RESET_THRESHOLD'), ...network },
      device: { counts: 'failures', threshold: value('TESSERA_THROTTLE_DEVICE_THRESHOLD'), ...network },
    },
  }
}

/** Reads the TLS file settings; both or neither, each readable. */
export function readTlsFiles(value: ReadSetting, problems: string[]): TlsFiles | null {
  const certFile = value('TESSERA_TLS_CERT')
  const keyFile = value('TESSERA_TLS_KEY')
  if (certFile === undefined && keyFile === undefined) return null
  if (certFile === undefined || keyFile === undefined) {
    problems.push('TESSERA_TLS_CERT: must be set together with TESSERA_TLS_KEY')
    return null
  }
  for (const [name, path] of [
    ['TESSERA_TLS_CERT', certFile],
    ['TESSERA_TLS_KEY', keyFile],
  ] as const) {
    try {
      accessSync(path, constants.R_OK)
    } catch {
      problems.push(`${name}: cannot read ${path}`)
    }
  }
  return { certFile, keyFile }
}

/** A host given as a name, not an address: the cookie rule is decided at start, on what it resolves to. */
export function isHostName(host: string): boolean {
  return isIP(host.replace(/^\[|\]$/g, '')) === 0 && host.toLowerCase() !== 'localhost'
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === '::ffff:127.0.0.1'
}

/**
 * Session cookies are `Secure`, but a browser talking plain HTTP to a remote Tessera would still
 * send the login password in clear and never get a usable cookie back: refuse to start that way
 * unless TLS is served here, declared by an https public URL (a TLS-terminating proxy), or the
 * operator explicitly allows it.
 */
export function checkCookieTransport(
  input: { host: string; publicUrl: string; tls: TlsFiles | null; allowInsecureCookies: boolean },
  problems: string[],
): void {
  if (input.tls !== null || input.allowInsecureCookies || isLoopbackHost(input.host)) return
  if (URL.canParse(input.publicUrl) && new URL(input.publicUrl).protocol === 'https:') return
  problems.push(
    'TESSERA_HOST: session cookies would travel over plain HTTP to a non-loopback address; set TESSERA_TLS_CERT and TESSERA_TLS_KEY, an https TESSERA_PUBLIC_URL (TLS ended by a proxy), or TESSERA_ALLOW_INSECURE_COOKIES=true',
  )
}

/**
 * `/metrics` tells a scraper how the service is used (sign-in counts, alert rules that fired,
 * sessions alive). Open on loopback it reaches only this machine; on any other address it needs
 * a token, or Tessera does not start. Serving it "to loopback only" instead was rejected: a
 * reverse proxy on the same host makes every request come from loopback, so that rule would open
 * the endpoint to the Internet in the most common deployment without anyone noticing.
 */
export function checkMetricsExposure(input: { host: string; metricsToken: string | null }, problems: string[]): void {
  if (input.metricsToken !== null || isLoopbackHost(input.host)) return
  problems.push(
    'TESSERA_METRICS_TOKEN: required when TESSERA_HOST is not a loopback address, or GET /metrics is open to every client that reaches it; set a token and give it to the scraper as its bearer token',
  )
}

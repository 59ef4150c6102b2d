/**
 * Tessera's JWKS for a resource server: jose's remote key set, plus respect for the server's
 * `Cache-Control: max-age`. The set is refreshed when the server says it is stale (never sooner
 * than the cool-down, never later than `maxAgeSeconds`), and at most once per cool-down when a
 * token names a `kid` the set does not hold, so a flood of invented `kid`s costs Tessera at most
 * one request per cool-down.
 *
 * Each fetched set has a generation number. The verifier's cache of verified tokens remembers the
 * generation it checked a token against and trusts the entry only while that set is current and
 * fresh, so a key that leaves the JWKS (an emergency rotation) stops verifying its cached tokens
 * at the next refresh, not at their `exp`.
 */
import { createRemoteJWKSet, customFetch, type CryptoKey, type FlattenedJWSInput, type JWTHeaderParameters } from 'jose'

export interface KeySetOptions {
  url: URL
  /** Longest time a fetched set is used, whatever the server says. Default 300. */
  maxAgeSeconds?: number
  /** Shortest time between two fetches. Default 30. */
  cooldownSeconds?: number
  /** Fetch timeout. Default 5000. */
  timeoutMs?: number
  fetch?: typeof fetch
}

export type KeyResolver = (header: JWTHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>

export interface KeySet {
  resolveKey: KeyResolver
  /** Changes every time a set is fetched. */
  readonly generation: number
  /** True once the set should be fetched again: the next key resolution does it. */
  isStale(nowMs: number): boolean
}

/** The `max-age` of a Cache-Control value in seconds; 0 for no-store / no-cache; null when absent. */
export function readMaxAgeSeconds(cacheControl: string | null): number | null {
  if (cacheControl === null) return null
  if (/(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)/i.test(cacheControl)) return 0
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/i.exec(cacheControl)
  return match?.[1] === undefined ? null : Number(match[1])
}

export function createKeySet(options: KeySetOptions): KeySet {
  const maxAgeMs = (options.maxAgeSeconds ?? 300) * 1000
  const cooldownMs = Math.min((options.cooldownSeconds ?? 30) * 1000, maxAgeMs)
  const fetchImplementation = options.fetch ?? fetch
  let staleAtMs = 0
  let generation = 0

  const remote = createRemoteJWKSet(options.url, {
    cacheMaxAge: maxAgeMs,
    cooldownDuration: cooldownMs,
    timeoutDuration: options.timeoutMs ?? 5000,
    [customFetch]: async (url, init) => {
      const response = await fetchImplementation(url, init)
      const serverMaxAgeMs = (readMaxAgeSeconds(response.headers.get('cache-control')) ?? Infinity) * 1000
      staleAtMs = Date.now() + Math.min(maxAgeMs, Math.max(cooldownMs, serverMaxAgeMs))
      if (response.ok) generation += 1
      return response
    },
  })

  const resolveKey: KeyResolver = async (header, token) => {
    if (remote.fresh && !remote.coolingDown && !remote.reloading && Date.now() >= staleAtMs) {
      try {
        await remote.reload()
      } catch {
        // The cached set is still within maxAgeSeconds: keep verifying with it while Tessera
        // cannot be reached, rather than refusing every request (jose refetches past it), and
        // try again after a cool-down instead of on every request.
        staleAtMs = Date.now() + cooldownMs
      }
    }
    return remote(header, token)
  }

  return {
    resolveKey,
    get generation() {
      return generation
    },
    isStale: (nowMs) => nowMs >= staleAtMs,
  }
}

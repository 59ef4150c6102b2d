/** A verifier pointed at a test server, counting the JWKS and introspection requests it makes. */
import { createVerifier, type VerifierOptions } from '../../src/verifier/index.ts'
import type { TestServer } from './test-server.ts'

export interface CountingFetch {
  fetch: typeof fetch
  calls: { jwks: number; introspection: number; other: number }
}

export function createCountingFetch(): CountingFetch {
  const calls = { jwks: 0, introspection: 0, other: 0 }
  const countingFetch: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    if (url.endsWith('/.well-known/jwks.json')) calls.jwks += 1
    else if (url.endsWith('/v1/oauth/introspect')) calls.introspection += 1
    else calls.other += 1
    return fetch(input, init)
  }
  return { fetch: countingFetch, calls }
}

/** The issuer is the configured one; the URLs are where the test server really listens. */
export function createTestVerifier(server: TestServer, overrides: Partial<VerifierOptions> = {}) {
  const counting = createCountingFetch()
  const verifier = createVerifier({
    issuer: server.config.tokens.issuer,
    audience: server.config.tokens.audience,
    jwksUrl: `${server.url}/.well-known/jwks.json`,
    fetch: counting.fetch,
    ...overrides,
    ...(overrides.introspection
      ? { introspection: { url: `${server.url}/v1/oauth/introspect`, ...overrides.introspection } }
      : {}),
  })
  return { verifier, calls: counting.calls }
}

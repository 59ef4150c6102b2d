/**
 * Optional liveness: asks Tessera's introspection endpoint (RFC 7662) whether a token is still
 * active, so a logout or an admin kick reaches this resource server at once rather than at the
 * token's expiry. Answers are cached briefly per token; an unreachable Tessera fails closed.
 */
import { VerifierError } from './verifier-error.ts'

export interface IntrospectionOptions {
  /** A service client (`tessera client create <name>`). */
  clientId: string
  clientSecret: string
  /** Default: `<issuer>/v1/oauth/introspect`. */
  url?: string | URL
  /** How long an answer is reused. Default 5; 0 asks on every request. */
  cacheSeconds?: number
  /** Default 2000. */
  timeoutMs?: number
}

export interface Liveness {
  active: boolean
  /** The user's current roles (they may have changed since the token was issued). */
  roles: readonly string[] | null
}

export type CheckLiveness = (token: string) => Promise<Liveness>

const maxCachedAnswers = 10_000

function encodeBasicCredentials(clientId: string, clientSecret: string): string {
  // RFC 6749 §2.3.1: each part is form-encoded before base64; the result is ASCII, as btoa needs.
  return btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`)
}

function readLiveness(body: unknown): Liveness {
  if (typeof body !== 'object' || body === null || !('active' in body) || body.active !== true) {
    return { active: false, roles: null }
  }
  const roles = 'roles' in body ? body.roles : null
  const isRoleList = Array.isArray(roles) && roles.every((role) => typeof role === 'string')
  return { active: true, roles: isRoleList ? (roles as string[]) : null }
}

export function createLivenessCheck(
  options: IntrospectionOptions & { issuer: string; fetch?: typeof fetch },
): CheckLiveness {
  const url = new URL(options.url ?? `${options.issuer}/v1/oauth/introspect`)
  const cacheMs = (options.cacheSeconds ?? 5) * 1000
  const authorization = `Basic ${encodeBasicCredentials(options.clientId, options.clientSecret)}`
  const fetchImplementation = options.fetch ?? fetch
  const answers = new Map<string, { liveness: Liveness; expiresAtMs: number }>()

  async function askTessera(token: string): Promise<Liveness> {
    let response: Response
    try {
      response = await fetchImplementation(url, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? 2000),
      })
    } catch (cause) {
      throw new VerifierError('unavailable', 'Tessera introspection could not be reached.', { cause })
    }
    if (response.status !== 200) {
      // 401 here means this server's client credentials are wrong: a configuration fault.
      throw new VerifierError('unavailable', `Tessera introspection answered ${response.status}.`)
    }
    try {
      return readLiveness(await response.json())
    } catch (cause) {
      throw new VerifierError('unavailable', 'Tessera introspection answered something other than JSON.', { cause })
    }
  }

  return async (token) => {
    const nowMs = Date.now()
    const cached = answers.get(token)
    if (cached && nowMs < cached.expiresAtMs) return cached.liveness
    const liveness = await askTessera(token)
    if (cacheMs > 0) {
      if (answers.size >= maxCachedAnswers) {
        for (const [key, entry] of answers) if (entry.expiresAtMs <= nowMs) answers.delete(key)
        if (answers.size >= maxCachedAnswers) answers.delete(answers.keys().next().value ?? '')
      }
      answers.set(token, { liveness, expiresAtMs: nowMs + cacheMs })
    }
    return liveness
  }
}

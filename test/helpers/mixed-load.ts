/**
 * A bounded load of mixed sign-ins and `/v1/me` calls (bearer, cookie, and tokens of sessions
 * already ended) spread over several nodes, for the fault tests. Each answer is recorded with its
 * time, so a test can say what happened before, during and after an outage.
 */
export type LoadKind = 'login' | 'me-bearer' | 'me-cookie' | 'me-revoked'

export interface LoadRecord {
  kind: LoadKind
  /** Milliseconds since the load started, when the request was sent. */
  sentAtMs: number
  latencyMs: number
  /** HTTP status, or 0 when no answer came (connection refused or reset). */
  status: number
  code: string | null
  hasRetryAfter: boolean
}

export interface LoadUser {
  username: string
  password: string
  accessToken: string
  cookie: string
}

export interface LoadPlan {
  nodeUrls: string[]
  users: LoadUser[]
  /** Access tokens and cookies whose sessions were ended before the load. */
  revoked: Array<{ accessToken: string; cookie: string }>
  durationMs: number
  concurrency: number
  /** Per request; an answer slower than this counts as no answer (status 0). */
  requestTimeoutMs: number
  origin: string
}

const kinds: LoadKind[] = ['login', 'me-bearer', 'me-bearer', 'me-cookie', 'me-cookie', 'me-revoked']

async function send(url: string, init: RequestInit, timeoutMs: number) {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
    const text = await response.text()
    let code: string | null = null
    try {
      code = (JSON.parse(text) as { code?: string }).code ?? null
    } catch {
      code = null
    }
    return { status: response.status, code, hasRetryAfter: response.headers.has('retry-after') }
  } catch {
    return { status: 0, code: null, hasRetryAfter: false }
  }
}

export async function runMixedLoad(plan: LoadPlan): Promise<LoadRecord[]> {
  const records: LoadRecord[] = []
  const startedAt = performance.now()
  let counter = 0
  const pick = <T>(list: readonly T[]): T => {
    counter += 1
    const item = list[counter % list.length]
    if (item === undefined) throw new Error('empty list')
    return item
  }
  const worker = async (workerIndex: number) => {
    let step = workerIndex
    while (performance.now() - startedAt < plan.durationMs) {
      step += 1
      const kind = kinds[step % kinds.length] ?? 'me-bearer'
      const node = pick(plan.nodeUrls)
      const user = pick(plan.users)
      const revoked = pick(plan.revoked)
      const sentAt = performance.now()
      let init: RequestInit
      let path = '/v1/me'
      if (kind === 'login') {
        path = '/v1/auth/login'
        init = {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: user.username, password: user.password }),
        }
      } else if (kind === 'me-bearer') {
        init = { headers: { authorization: `Bearer ${user.accessToken}` } }
      } else if (kind === 'me-cookie') {
        init = { headers: { cookie: user.cookie } }
      } else {
        init = {
          headers: step % 2 === 0 ? { authorization: `Bearer ${revoked.accessToken}` } : { cookie: revoked.cookie },
        }
      }
      const answer = await send(`${node}${path}`, init, plan.requestTimeoutMs)
      records.push({ kind, sentAtMs: sentAt - startedAt, latencyMs: performance.now() - sentAt, ...answer })
    }
  }
  await Promise.all(Array.from({ length: plan.concurrency }, (_, index) => worker(index)))
  return records
}

/** Counts of `status` per kind, for diagnostics. */
export function summarizeLoad(records: readonly LoadRecord[]): Record<string, Record<string, number>> {
  const summary: Record<string, Record<string, number>> = {}
  for (const record of records) {
    const byStatus = (summary[record.kind] ??= {})
    byStatus[String(record.status)] = (byStatus[String(record.status)] ?? 0) + 1
  }
  return summary
}

/** Signs a user in on `nodeUrl` by both transports; returns the bearer token and cookie. */
export async function signInBothWays(nodeUrl: string, username: string, password: string): Promise<LoadUser> {
  const post = (body: unknown) =>
    fetch(`${nodeUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const token = await post({ username, password })
  if (token.status !== 200) throw new Error(`login failed: ${token.status}`)
  const cookieLogin = await post({ username, password, mode: 'cookie' })
  if (cookieLogin.status !== 200) throw new Error(`cookie login failed: ${cookieLogin.status}`)
  const cookie = /__Host-session=[^;]*/.exec(cookieLogin.headers.get('set-cookie') ?? '')?.[0] ?? ''
  return { username, password, accessToken: ((await token.json()) as { access_token: string }).access_token, cookie }
}

/** Registers a benchmark user and signs it in on both transports. */
import { randomBytes } from 'node:crypto'

export interface BenchCredentials {
  username: string
  password: string
  accessToken: string
  /** The `__Host-session` cookie value. */
  sessionToken: string
}

async function postJson(url: string, body: unknown, expectedStatus: number): Promise<Response> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (response.status !== expectedStatus) {
    throw new Error(`POST ${new URL(url).pathname} answered ${response.status}: ${await response.text()}`)
  }
  return response
}

function readSessionCookie(response: Response): string {
  for (const cookie of response.headers.getSetCookie()) {
    const match = /^__Host-session=([^;]+)/.exec(cookie)
    if (match?.[1]) return match[1]
  }
  throw new Error('cookie login set no __Host-session cookie')
}

export async function createBenchCredentials(baseUrl: string): Promise<BenchCredentials> {
  const username = `bench-${randomBytes(4).toString('hex')}`
  const password = `bench-${randomBytes(16).toString('base64url')}`
  await postJson(`${baseUrl}/v1/auth/register`, { username, password }, 201)

  const tokenLogin = await postJson(`${baseUrl}/v1/auth/login`, { username, password, mode: 'token' }, 200)
  const tokenBody = (await tokenLogin.json()) as { access_token?: unknown }
  if (typeof tokenBody.access_token !== 'string') throw new Error('token login returned no access_token')

  const cookieLogin = await postJson(`${baseUrl}/v1/auth/login`, { username, password, mode: 'cookie' }, 200)
  const sessionToken = readSessionCookie(cookieLogin)

  const credentials = { username, password, accessToken: tokenBody.access_token, sessionToken }
  await assertAuthenticated(baseUrl, { authorization: `Bearer ${credentials.accessToken}` })
  await assertAuthenticated(baseUrl, { cookie: `__Host-session=${credentials.sessionToken}` })
  return credentials
}

async function assertAuthenticated(baseUrl: string, headers: Record<string, string>): Promise<void> {
  const response = await fetch(`${baseUrl}/v1/me`, { headers })
  if (response.status !== 200) throw new Error(`GET /v1/me answered ${response.status}: ${await response.text()}`)
}

/**
 * A client written against types generated from Tessera's /openapi.json by openapi-typescript.
 * test/openapi/openapi.test.ts generates `tessera-api.d.ts` next to a copy of this file, type-checks
 * it strictly, then runs it against a live Tessera: node use-operations.ts <base-url> <username>.
 * The ts-expect-error lines fail the check if the generated types decay to `any` or lose a field.
 */
import type { components, operations, paths } from './tessera-api.d.ts'

type JsonBody<Operation> = Operation extends { requestBody: { content: { 'application/json': infer Body } } }
  ? Body
  : never
type JsonAnswer<Operation, Status extends number> = Operation extends {
  responses: { [status in Status]: { content: { 'application/json': infer Answer } } }
}
  ? Answer
  : never

export type Problem = components['schemas']['Problem']
export type SignInBody = JsonBody<operations['signIn']>
export type SignIn = JsonAnswer<operations['signIn'], 200>
export type RegisteredUser = JsonAnswer<operations['register'], 201>
export type MySessions = JsonAnswer<operations['listMySessions'], 200>
export type ReplaceRolesBody = JsonBody<operations['replaceUserRoles']>
export type SessionIdParameter = paths['/v1/sessions/{id}']['delete']['parameters']['path']['id']
export type AuthorizationServerMetadata = JsonAnswer<operations['getAuthorizationServerMetadata'], 200>

/** A refused call, typed by the problem's stable code. */
export class ProblemError extends Error {
  readonly problem: Problem
  constructor(problem: Problem) {
    super(problem.title)
    this.problem = problem
  }
}

async function send<Answer>(
  baseUrl: string,
  path: string,
  init: { method: string; body?: unknown; bearer?: string },
): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`
  const response = await fetch(`${baseUrl}${path}`, {
    method: init.method,
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  const answer: unknown = await response.json()
  if (!response.ok) throw new ProblemError(answer as Problem)
  return answer as Answer
}

export function register(baseUrl: string, body: JsonBody<operations['register']>): Promise<RegisteredUser> {
  return send(baseUrl, '/v1/auth/register', { method: 'POST', body })
}

export function signIn(baseUrl: string, body: SignInBody): Promise<SignIn> {
  return send(baseUrl, '/v1/auth/login', { method: 'POST', body })
}

export function listMySessions(baseUrl: string, accessToken: string): Promise<MySessions> {
  return send(baseUrl, '/v1/sessions', { method: 'GET', bearer: accessToken })
}

export function readMetadata(baseUrl: string): Promise<AuthorizationServerMetadata> {
  return send(baseUrl, '/.well-known/oauth-authorization-server', { method: 'GET' })
}

/** The problem code of a refusal, or null: the code is a closed union, not a string. */
export function readProblemCode(error: unknown): Problem['code'] | null {
  return error instanceof ProblemError ? error.problem.code : null
}

// Each line below is an error as long as the generated types are precise.
// @ts-expect-error mode is "token" or "cookie"
export const badMode: SignInBody = { username: 'a', password: 'b', mode: 'session' }
// @ts-expect-error the password is required
export const noPassword: SignInBody = { username: 'a' }
// @ts-expect-error a problem code outside the documented list
export const unknownCode: Problem['code'] = 'no_such_code'
// @ts-expect-error roles are a list of strings
export const oneRole: ReplaceRolesBody = { roles: 'admin' }
// @ts-expect-error a path parameter is a string
export const numericId: SessionIdParameter = 1
export const knownCode: Problem['code'] = 'invalid_credentials'

if (import.meta.main) {
  const [baseUrl = '', username = ''] = process.argv.slice(2)
  const password = 'correct horse battery staple'
  const user = await register(baseUrl, { username, password })
  const signedIn = await signIn(baseUrl, { username, password, mode: 'token' })
  const sessions = await listMySessions(baseUrl, signedIn.access_token ?? '')
  const refused = await signIn(baseUrl, { username, password: 'wrong horse battery staple' }).then(
    () => null,
    readProblemCode,
  )
  const metadata = await readMetadata(baseUrl)
  process.stdout.write(
    JSON.stringify({
      userId: user.id,
      roles: user.roles,
      sessionIds: sessions.sessions.map((session) => session.id),
      signedInSession: signedIn.session_id,
      refused,
      jwksUri: metadata.jwks_uri,
    }),
  )
}

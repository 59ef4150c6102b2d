/** Helpers for the token-lifecycle tests: admins, service clients and form requests. */
import { logInWithToken, registerUser, type TestResponse, type TestServer } from './test-server.ts'

export interface IntrospectionClient {
  clientId: string
  clientSecret: string
  /** The Authorization header value. */
  authorization: string
}

/** Registers a user, makes it an admin and logs it in with tokens. */
export async function signInAsAdmin(server: TestServer) {
  const { username, id } = await registerUser(server)
  await server.application.accountAdmin.replaceUserRoles(id, ['admin', 'user'], {
    actorUserId: null,
    context: { ip: null, userAgent: 'test', requestId: null },
  })
  return { id, username, ...(await logInWithToken(server, username)) }
}

export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (part: string) => encodeURIComponent(part)
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`, 'utf8').toString('base64')}`
}

/** A service client created through the application (the admin API and CLI are tested on their own). */
export async function createIntrospectionClient(
  server: TestServer,
  name = 'game-server',
): Promise<IntrospectionClient> {
  const { client, secret } = await server.application.tokenAdmin.createServiceClient(name, {
    actorUserId: null,
    context: { ip: null, userAgent: 'test', requestId: null },
  })
  return { clientId: client.id, clientSecret: secret, authorization: basicAuthorization(client.id, secret) }
}

/** POSTs an `application/x-www-form-urlencoded` body. */
export function postForm(
  server: TestServer,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  return server.request(path, {
    method: 'POST',
    rawBody: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  })
}

export function introspect(server: TestServer, client: IntrospectionClient, token: string, hint?: string) {
  return postForm(
    server,
    '/v1/oauth/introspect',
    { token, ...(hint ? { token_type_hint: hint } : {}) },
    {
      authorization: client.authorization,
    },
  )
}

export function refresh(server: TestServer, refreshToken: string): Promise<TestResponse> {
  return server.request('/v1/auth/refresh', { body: { refresh_token: refreshToken } })
}

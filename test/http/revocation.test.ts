/**
 * RFC 7009 revocation over real HTTP (SECURITY.md RT-08, JW-09): any token gets 200; a live one
 * ends its session, so the family, the access tokens naming it and any re-encoding of them stop.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  basicAuthorization,
  createIntrospectionClient,
  introspect,
  postForm,
  refresh,
} from '../helpers/token-lifecycle.ts'
import { logInWithToken, registerUser, startTestServer, type TestServer } from '../helpers/test-server.ts'

async function signedIn(server: TestServer) {
  const { username, id } = await registerUser(server)
  return { username, id, ...(await logInWithToken(server, username)) }
}

function revoke(
  server: TestServer,
  token: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  return postForm(server, '/v1/oauth/revoke', { token, ...extra }, headers)
}

/** The same signature with the unused low bits of its last base64url character changed. */
function reencodeSignature(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = token.at(-1) ?? 'A'
  const index = alphabet.indexOf(last)
  // An Ed25519 signature is 64 bytes, 86 characters: the last one carries 2 bits and 4 spare ones.
  return `${token.slice(0, -1)}${alphabet[(index & 0b110000) | (~index & 0b001111)]}`
}

describe('revocation', () => {
  it('answers 200 with an empty body for garbage, with or without a hint', async (t) => {
    const server = await startTestServer(t)
    const hints: Array<Record<string, string>> = [
      {},
      { token_type_hint: 'access_token' },
      { token_type_hint: 'refresh_token' },
      { token_type_hint: 'x' },
    ]
    for (const extra of hints) {
      const response = await revoke(server, 'garbage', extra)
      assert.equal(response.status, 200)
      assert.equal(response.text, '')
      assert.equal(response.headers.get('cache-control'), 'no-store')
    }
  })

  it('revoking a refresh token under a wrong hint ends the family and its access tokens (RT-08)', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    const other = await logInWithToken(server, user.username)
    assert.equal((await revoke(server, user.refresh_token, { token_type_hint: 'access_token' })).status, 200)
    assert.equal((await refresh(server, user.refresh_token)).status, 400)
    assert.equal((await server.request('/v1/me', { bearer: user.access_token })).status, 401)
    assert.deepEqual((await introspect(server, client, user.access_token)).json, { active: false })
    assert.deepEqual((await introspect(server, client, user.refresh_token)).json, { active: false })
    assert.equal((await server.request('/v1/me', { bearer: other.access_token })).status, 200)
    assert.deepEqual(
      server.auditEvents
        .filter((event) => event.type === 'token_revoked')
        .map((event) => [event.subjectUserId, event.sessionId, event.details, event.ip]),
      [[user.id, user.session_id, { presented: 'refresh_token', client_id: null }, '127.0.0.1']],
    )
  })

  it('revoking an earlier refresh token of a family ends the family too', async (t) => {
    const server = await startTestServer(t)
    const user = await signedIn(server)
    const rotated = await refresh(server, user.refresh_token)
    await revoke(server, user.refresh_token)
    assert.equal((await refresh(server, rotated.json.refresh_token)).status, 400)
    assert.equal((await server.request('/v1/me', { bearer: rotated.json.access_token })).status, 401)
  })

  it('revoking an access token ends its session, refresh token included, and re-encoded copies stay dead (JW-09)', async (t) => {
    const server = await startTestServer(t)
    const user = await signedIn(server)
    const reencoded = reencodeSignature(user.access_token)
    assert.notEqual(reencoded, user.access_token)
    assert.equal((await revoke(server, user.access_token, { token_type_hint: 'refresh_token' })).status, 200)
    for (const token of [user.access_token, reencoded]) {
      assert.equal((await server.request('/v1/me', { bearer: token })).status, 401)
    }
    assert.equal((await refresh(server, user.refresh_token)).status, 400)
  })

  it('records which service client revoked, when one authenticated', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    assert.equal((await revoke(server, user.refresh_token, {}, { authorization: client.authorization })).status, 200)
    const revoked = server.auditEvents.find((event) => event.type === 'token_revoked')
    assert.equal(revoked?.details.client_id, client.clientId)
  })

  it('refuses wrong client credentials with 401 and revokes nothing', async (t) => {
    const server = await startTestServer(t)
    const client = await createIntrospectionClient(server)
    const user = await signedIn(server)
    for (const authorization of [
      basicAuthorization(client.clientId, 'wrong'),
      `Bearer ${user.access_token}`,
      'Basic',
    ]) {
      const response = await revoke(server, user.refresh_token, {}, { authorization })
      assert.equal(response.status, 401)
      assert.equal(response.json.code, 'invalid_client')
    }
    assert.equal((await refresh(server, user.refresh_token)).status, 200)
  })

  it('accepts forms only', async (t) => {
    const server = await startTestServer(t)
    const user = await signedIn(server)
    const response = await server.request('/v1/oauth/revoke', { body: { token: user.refresh_token } })
    assert.equal(response.status, 415)
    assert.equal((await refresh(server, user.refresh_token)).status, 200)
  })

  it('does not revoke anything for an expired access token', async (t) => {
    const server = await startTestServer(t, { TESSERA_ACCESS_TOKEN_TTL: '60s', TESSERA_CLOCK_LEEWAY: '0s' })
    const user = await signedIn(server)
    server.clock.advanceSeconds(61)
    assert.equal((await revoke(server, user.access_token)).status, 200)
    assert.equal((await refresh(server, user.refresh_token)).status, 200)
  })
})

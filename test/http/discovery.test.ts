/**
 * Discovery documents: RFC 8414 metadata with only what Tessera has, and the two-member OpenID
 * discovery document gateways read to find the JWKS. Every URL comes from the configured public
 * URL, never from the Host or X-Forwarded-Host header (SECURITY.md HD-03).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sendRaw } from '../helpers/raw-http.ts'
import { createIntrospectionClient, signInAsAdmin } from '../helpers/token-lifecycle.ts'
import { logInWithToken, registerUser, startTestServer, type TestServer } from '../helpers/test-server.ts'

const publicUrl = 'https://auth.example/tessera'

/** The path part of a URL the document names, to request it from the test server. */
function pathOf(url: string): string {
  assert.ok(url.startsWith(`${publicUrl}/`), url)
  return url.slice(publicUrl.length)
}

async function readMetadata(server: TestServer) {
  const response = await server.request('/.well-known/oauth-authorization-server')
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(response.headers.get('cache-control'), 'public, max-age=300')
  return response.json
}

describe('discovery documents', () => {
  it('the RFC 8414 metadata names the issuer, JWKS, introspection and revocation and nothing Tessera lacks', async (t) => {
    const server = await startTestServer(t, { TESSERA_PUBLIC_URL: publicUrl })
    const metadata = await readMetadata(server)
    assert.deepEqual(metadata, {
      issuer: publicUrl,
      jwks_uri: `${publicUrl}/.well-known/jwks.json`,
      introspection_endpoint: `${publicUrl}/v1/oauth/introspect`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      revocation_endpoint: `${publicUrl}/v1/oauth/revoke`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'none'],
      access_token_signing_alg_values_supported: ['EdDSA'],
    })
    // The issuer is exactly the tokens' iss.
    const { username } = await registerUser(server)
    const tokens = await logInWithToken(server, username)
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString())
    assert.equal(claims.iss, metadata.issuer)

    // Each URL is a working endpoint of this server, with the authentication it announces.
    const jwks = await server.request(pathOf(metadata.jwks_uri))
    assert.equal(jwks.json.keys[0].alg, 'EdDSA')
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    const anonymous = await server.request(pathOf(metadata.introspection_endpoint), {
      rawBody: 'token=x',
      headers: form,
    })
    assert.equal(anonymous.status, 401)
    const client = await createIntrospectionClient(server, 'discovery-check')
    const introspection = await server.request(pathOf(metadata.introspection_endpoint), {
      rawBody: `token=${tokens.access_token}`,
      headers: { ...form, authorization: client.authorization },
    })
    assert.equal(introspection.json.active, true)
    const revocation = await server.request(pathOf(metadata.revocation_endpoint), {
      rawBody: `token=${tokens.refresh_token}`,
      headers: form,
    })
    assert.equal(revocation.status, 200)
    assert.equal((await server.request('/v1/me', { bearer: tokens.access_token })).status, 401)
  })

  it('the OpenID discovery document holds the issuer and the JWKS only: no OpenID provider member', async (t) => {
    const server = await startTestServer(t, { TESSERA_PUBLIC_URL: publicUrl })
    const response = await server.request('/.well-known/openid-configuration')
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'public, max-age=300')
    assert.deepEqual(response.json, { issuer: publicUrl, jwks_uri: `${publicUrl}/.well-known/jwks.json` })
    for (const member of [
      'authorization_endpoint',
      'response_types_supported',
      'subject_types_supported',
      'id_token_signing_alg_values_supported',
      'userinfo_endpoint',
    ]) {
      assert.equal(member in response.json, false, member)
    }
  })

  it('the signing algorithms follow the published keys through a rotation to RS256', async (t) => {
    const server = await startTestServer(t, {
      TESSERA_PUBLIC_URL: publicUrl,
      TESSERA_KEY_ACTIVATION_DELAY: '10m',
      TESSERA_ACCESS_TOKEN_TTL: '5m',
    })
    const admin = await signInAsAdmin(server)
    const rotation = await server.request('/v1/admin/keys/rotate?algorithm=RS256', {
      method: 'POST',
      bearer: admin.access_token,
    })
    assert.equal(rotation.status, 201)
    // Published before it signs, so a gateway that reads the metadata knows the algorithm in time.
    assert.deepEqual((await readMetadata(server)).access_token_signing_alg_values_supported, ['EdDSA', 'RS256'])
    server.clock.advanceSeconds(600 + 300 + 5)
    assert.deepEqual((await readMetadata(server)).access_token_signing_alg_values_supported, ['RS256'])
  })

  it('never takes a URL from the Host or X-Forwarded-Host header, even behind a trusted proxy', async (t) => {
    for (const env of [{}, { TESSERA_TRUST_PROXY: '1' }] as Array<Record<string, string>>) {
      const server = await startTestServer(t, { TESSERA_PUBLIC_URL: publicUrl, ...env })
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
        const request = `GET ${path} HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: http\r\nConnection: close\r\n\r\n`
        const answer = await sendRaw(server.url, [request])
        assert.equal(answer.status, 200, path)
        assert.doesNotMatch(answer.text, /evil\.example/, path)
        assert.match(answer.text, /"issuer":"https:\/\/auth\.example\/tessera"/, path)
      }
    }
  })

  it('answers 405 to other methods', async (t) => {
    const server = await startTestServer(t)
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const response = await server.request(path, { method: 'POST', body: {} })
      assert.equal(response.status, 405, path)
      assert.equal(response.headers.get('allow'), 'GET, HEAD', path)
    }
  })
})

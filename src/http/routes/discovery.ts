/**
 * Discovery documents for gateways and libraries that configure themselves from the issuer.
 *
 * `/.well-known/oauth-authorization-server` is OAuth 2.0 Authorization Server Metadata (RFC 8414)
 * holding only what Tessera has: its issuer, JWKS, introspection and revocation endpoints with
 * their client authentication, and the algorithms of the published signing keys. Tessera has no
 * authorization endpoint and no OAuth token endpoint (sign-in and refresh are its own JSON API),
 * so `authorization_endpoint`, `token_endpoint` and `response_types_supported` are absent: RFC
 * 8414 §2 lists the last as REQUIRED, but no value would be true and §3.2 forbids an empty array
 * (the gap RFC 8414 erratum 7793 reports). Inventing `["code"]` would send clients to an
 * endpoint that does not exist.
 *
 * `/.well-known/openid-configuration` holds `issuer` and `jwks_uri` and nothing else: gateways
 * such as AWS API Gateway's JWT authorizers read `{issuer}/.well-known/openid-configuration` only
 * to find the key set. Tessera is not an OpenID provider (no ID tokens, no userinfo, no
 * authorization endpoint), and the document lacks every member OpenID Connect Discovery requires
 * beyond those two, so no OpenID client mistakes it for one.
 *
 * Every URL is built from the configured public URL (the issuer), never from the request's Host
 * or X-Forwarded-Host header (SECURITY.md HD-03).
 */
import type { FastifyInstance } from 'fastify'
import type { TokenAdministration } from '../../core/application/token-administration.ts'
import { signingAlgorithms, type PublicJwk, type SigningAlgorithm } from '../../core/application/types.ts'

export interface DiscoveryRouteDeps {
  /** TESSERA_PUBLIC_URL without a trailing slash: the `iss` of every token. */
  issuer: string
  /** The published key set, read on every request: rotation changes the algorithms. */
  tokenAdmin: Pick<TokenAdministration, 'publicJwks'>
}

const methodList = { type: 'array', items: { type: 'string' } } as const

const authorizationServerMetadataSchema = {
  type: 'object',
  description:
    'RFC 8414 metadata, limited to what Tessera has. `access_token_signing_alg_values_supported` is an extension member: the algorithms of the keys in the JWKS.',
  properties: {
    issuer: { type: 'string' },
    jwks_uri: { type: 'string' },
    introspection_endpoint: { type: 'string' },
    introspection_endpoint_auth_methods_supported: methodList,
    revocation_endpoint: { type: 'string' },
    revocation_endpoint_auth_methods_supported: methodList,
    access_token_signing_alg_values_supported: { type: 'array', items: { type: 'string', enum: signingAlgorithms } },
  },
  required: [
    'issuer',
    'jwks_uri',
    'introspection_endpoint',
    'introspection_endpoint_auth_methods_supported',
    'revocation_endpoint',
    'revocation_endpoint_auth_methods_supported',
    'access_token_signing_alg_values_supported',
  ],
} as const

const openIdConfigurationSchema = {
  type: 'object',
  description:
    'The issuer and its JWKS, for gateways that find keys through OpenID discovery. Not an OpenID provider document.',
  properties: { issuer: { type: 'string' }, jwks_uri: { type: 'string' } },
  required: ['issuer', 'jwks_uri'],
} as const

/** The algorithms of the published keys, in the order of the algorithm list. */
function listPublishedAlgorithms(keys: readonly PublicJwk[]): SigningAlgorithm[] {
  return signingAlgorithms.filter((algorithm) => keys.some((key) => key.alg === algorithm))
}

export async function discoveryRoutes(app: FastifyInstance, deps: DiscoveryRouteDeps): Promise<void> {
  const { issuer, tokenAdmin } = deps
  const jwksUri = `${issuer}/.well-known/jwks.json`

  app.get(
    '/.well-known/oauth-authorization-server',
    {
      schema: {
        summary: 'Authorization server metadata (RFC 8414)',
        operationId: 'getAuthorizationServerMetadata',
        security: [],
        tags: ['tokens'],
        response: { 200: authorizationServerMetadataSchema },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return {
        issuer,
        jwks_uri: jwksUri,
        introspection_endpoint: `${issuer}/v1/oauth/introspect`,
        introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
        revocation_endpoint: `${issuer}/v1/oauth/revoke`,
        // A game client revoking its own token at logout has no client secret (RFC 7009 §2.1).
        revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'none'],
        access_token_signing_alg_values_supported: listPublishedAlgorithms(tokenAdmin.publicJwks().keys),
      }
    },
  )

  app.get(
    '/.well-known/openid-configuration',
    {
      schema: {
        summary: 'Where the signing keys are, for OpenID-discovery gateways',
        operationId: 'getOpenIdConfiguration',
        security: [],
        tags: ['tokens'],
        response: { 200: openIdConfigurationSchema },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return { issuer, jwks_uri: jwksUri }
    },
  )
}

/**
 * Token introspection (RFC 7662) and revocation (RFC 7009), for resource servers and clients.
 * Requests are forms, as those RFCs define them. Introspection needs a service client (HTTP
 * Basic), so tokens cannot be probed anonymously; an inactive token gets exactly
 * `{"active":false}`. Revocation may be sent by whoever holds the token (a game client at
 * logout has no client secret) and answers 200 whatever the token was.
 */
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../config/load.ts'
import type { OAuthOperations } from '../../core/application/token-administration.ts'
import type { TokenType } from '../../core/application/types.ts'
import { acceptOnlyFormBodies } from '../form-body.ts'
import { createClientAuthenticate, refuseClient } from '../plugins/client-auth.ts'
import { problemResponses } from '../schemas/shared.ts'
import { readClientContext } from '../request-context.ts'
import { authBodyLimitBytes } from './route-deps.ts'

export interface OAuthRouteDeps {
  oauth: OAuthOperations
  tokenSettings: Pick<Config['tokens'], 'issuer' | 'audience'>
}

interface TokenForm {
  token: string
  token_type_hint?: string
}

const tokenForm = {
  type: 'object',
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 8192 },
    token_type_hint: { type: 'string', maxLength: 64 },
  },
  required: ['token'],
} as const

const clientSecurity: Array<Record<string, string[]>> = [{ client: [] }]

function readHint(hint: string | undefined): TokenType | undefined {
  // Unknown hints are ignored, not refused: the hint is advisory (RFC 7009 §2.1).
  return hint === 'access_token' || hint === 'refresh_token' ? hint : undefined
}

export async function oauthRoutes(app: FastifyInstance, deps: OAuthRouteDeps): Promise<void> {
  const { oauth, tokenSettings } = deps
  acceptOnlyFormBodies(app)
  app.decorateRequest('serviceClient', null)
  app.addHook('onRequest', createClientAuthenticate(oauth))

  app.post<{ Body: TokenForm }>(
    '/introspect',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Introspect a token (RFC 7662)',
        operationId: 'introspectToken',
        description:
          'Needs a service client (HTTP Basic). Answers from live session state: a token of an ended session is inactive at once, and `roles` are the current ones.',
        tags: ['oauth'],
        security: clientSecurity,
        consumes: ['application/x-www-form-urlencoded'],
        body: tokenForm,
        response: {
          200: {
            type: 'object',
            properties: {
              active: { type: 'boolean' },
              token_type: { type: 'string', enum: ['access_token', 'refresh_token'] },
              sub: { type: 'string' },
              username: { type: 'string' },
              sid: { type: 'string' },
              roles: { type: 'array', items: { type: 'string' } },
              client_id: { type: 'string' },
              iat: { type: 'integer' },
              exp: { type: 'integer' },
              jti: { type: 'string' },
              iss: { type: 'string' },
              aud: { type: 'string' },
            },
            required: ['active'],
          },
          ...problemResponses(400, 401, 413, 415),
        },
      },
    },
    async (request, reply) => {
      if (!request.serviceClient) throw refuseClient(reply)
      const hint = readHint(request.body.token_type_hint)
      const answer = await oauth.introspectToken(request.body.token, hint)
      if (!answer.active) return { active: false }
      return {
        active: true,
        token_type: answer.tokenType,
        sub: answer.userId,
        // RFC 7662 makes it optional: a guest account has no username, so the member is left out.
        ...(answer.username === null ? {} : { username: answer.username }),
        sid: answer.sessionId,
        roles: answer.roles,
        client_id: answer.clientId,
        iat: answer.issuedAt,
        exp: answer.expiresAt,
        ...(answer.tokenId === null ? {} : { jti: answer.tokenId }),
        iss: tokenSettings.issuer,
        aud: tokenSettings.audience,
      }
    },
  )

  app.post<{ Body: TokenForm }>(
    '/revoke',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Revoke a token (RFC 7009)',
        operationId: 'revokeToken',
        description:
          'Ends the session behind an access or refresh token (every token of it stops working). Answers 200 for any token, valid or not. Client authentication is optional; a wrong one is refused.',
        tags: ['oauth'],
        security: [{}, ...clientSecurity],
        consumes: ['application/x-www-form-urlencoded'],
        body: tokenForm,
        response: { 200: { type: 'null' }, ...problemResponses(400, 401, 413, 415) },
      },
    },
    async (request, reply) => {
      const options = { hint: readHint(request.body.token_type_hint), clientId: request.serviceClient?.id ?? null }
      await oauth.revokeToken(request.body.token, options, readClientContext(request))
      return reply.code(200).send()
    },
  )
}

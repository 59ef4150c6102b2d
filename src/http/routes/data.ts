/**
 * Session data and player data: one JSON object per session (`/v1/sessions/current/data` for
 * its holder, `/v1/sessions/{id}/data` for service clients) and per user (`/v1/me/data`,
 * `/v1/users/{id}/data`). `GET` answers the document with a strong `ETag` (its version); `PUT`
 * replaces it and `PATCH` applies a JSON Merge Patch (RFC 7396), both only with `If-Match`
 * naming the current version: 428 without it, 412 when another write came first.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type {
  DataOperations,
  ExpectedVersions,
  GameDataOperations,
  VersionedDocument,
} from '../../core/application/game-data.ts'
import type { OAuthOperations } from '../../core/application/token-administration.ts'
import { TesseraError } from '../../core/errors.ts'
import { registerJsonParser } from '../json-body.ts'
import { requireAuth } from '../plugins/authenticate.ts'
import { createClientAuthenticate, refuseClient } from '../plugins/client-auth.ts'
import { authSecurity, problemResponses } from '../schemas/shared.ts'
import type { AuthenticatedRouteDeps } from './route-deps.ts'

export interface DataRouteDeps extends AuthenticatedRouteDeps {
  gameData: GameDataOperations
  oauth: Pick<OAuthOperations, 'authenticateServiceClient'>
  /** The larger of the two document limits: bodies are bounded by it before they are parsed. */
  maxBytes: number
}

const mergePatchType = 'application/merge-patch+json'
const etagPattern = /^"(\d{1,15})"$/

/**
 * The versions `If-Match` names (strong ETags only: a weak one never matches, RFC 9110 §13.1.1);
 * null without the header or with `*`, which would let a write overwrite whatever is there.
 */
export function readExpectedVersions(header: string | undefined): ExpectedVersions {
  if (header === undefined || header.trim() === '*') return null
  const versions: number[] = []
  for (const part of header.split(',')) {
    const version = etagPattern.exec(part.trim())?.[1]
    if (version !== undefined) versions.push(Number(version))
  }
  return versions
}

/** Answers the stored JSON text as it is: a JSON string payload skips Fastify's serialiser. */
function sendDocument(reply: FastifyReply, document: VersionedDocument): string {
  reply.header('etag', `"${document.version}"`).type('application/json; charset=utf-8')
  return document.json
}

function readMediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

const documentSchema = {
  type: 'object',
  additionalProperties: true,
  description: 'The document: any JSON object (`{}` until something was written).',
} as const
const etagHeader = { ETag: { type: 'string', description: 'The version, a strong ETag to send back in If-Match.' } }
const ifMatchHeaders = {
  type: 'object',
  properties: {
    'if-match': { type: 'string', maxLength: 1024, description: 'The ETag of the version this write changes.' },
  },
} as const
const clientSecurity: Array<Record<string, string[]>> = [{ client: [] }]

interface Place {
  /** Path of the route. */
  url: string
  /** Operation id stem, as in `getSessionData`. */
  name: string
  tag: string
  what: string
  security: Array<Record<string, string[]>>
  onRequest: onRequestHookHandler
  params?: { type: 'object'; properties: Record<string, unknown>; required: string[] }
  /** The owner id of the request (the session or the user), after authentication. */
  ownerOf(request: FastifyRequest, reply: FastifyReply): string
  operations: DataOperations
  /** Statuses besides those every data route answers. */
  extraStatuses: number[]
}

export async function dataRoutes(app: FastifyInstance, deps: DataRouteDeps): Promise<void> {
  const { gameData, authenticate } = deps
  app.decorateRequest('serviceClient', null)
  registerJsonParser(app, mergePatchType)
  const authenticateClient = createClientAuthenticate(deps.oauth)
  // Room for whitespace around a document at the limit; the limit itself is checked after parsing.
  const bodyLimit = Math.min(1024 * 1024, deps.maxBytes * 4 + 1024)
  const idParams = (name: string) => ({
    type: 'object' as const,
    properties: { [name]: { type: 'string', minLength: 1, maxLength: 64 } },
    required: [name],
  })
  const serviceClientOf = (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.serviceClient) throw refuseClient(reply)
  }

  const places: Place[] = [
    {
      url: '/v1/sessions/current/data',
      name: 'MySessionData',
      tag: 'sessions',
      what: "the current session's data",
      security: authSecurity,
      onRequest: authenticate,
      ownerOf: (request) => requireAuth(request).session.id,
      operations: gameData.sessionData,
      extraStatuses: [403],
    },
    {
      url: '/v1/sessions/:id/data',
      name: 'SessionData',
      tag: 'sessions',
      what: "a session's data (service clients)",
      security: clientSecurity,
      onRequest: authenticateClient,
      params: idParams('id'),
      ownerOf: (request, reply) => {
        serviceClientOf(request, reply)
        return (request.params as { id: string }).id
      },
      operations: gameData.sessionData,
      extraStatuses: [404],
    },
    {
      url: '/v1/me/data',
      name: 'MyPlayerData',
      tag: 'me',
      what: "the signed-in user's player data",
      security: authSecurity,
      onRequest: authenticate,
      ownerOf: (request) => requireAuth(request).user.id,
      operations: gameData.playerData,
      extraStatuses: [403],
    },
    {
      url: '/v1/users/:id/data',
      name: 'PlayerData',
      tag: 'users',
      what: "a user's player data (service clients)",
      security: clientSecurity,
      onRequest: authenticateClient,
      params: idParams('id'),
      ownerOf: (request, reply) => {
        serviceClientOf(request, reply)
        return (request.params as { id: string }).id
      },
      operations: gameData.playerData,
      extraStatuses: [404],
    },
  ]

  for (const place of places) {
    const { operations } = place
    const params = place.params ? { params: place.params } : {}
    app.get(
      place.url,
      {
        onRequest: place.onRequest,
        schema: {
          summary: `Read ${place.what}`,
          operationId: `get${place.name}`,
          description: 'The document with its version as a strong `ETag`; `{}` while nothing was written.',
          tags: [place.tag],
          security: place.security,
          ...params,
          response: {
            200: { ...documentSchema, headers: etagHeader },
            ...problemResponses(400, 401, ...place.extraStatuses),
          },
        },
      },
      async (request, reply) => sendDocument(reply, await operations.readData(place.ownerOf(request, reply))),
    )

    const writeStatuses = [400, 401, 412, 413, 415, 428, ...place.extraStatuses]
    app.put(
      place.url,
      {
        onRequest: place.onRequest,
        bodyLimit,
        schema: {
          summary: `Replace ${place.what}`,
          operationId: `replace${place.name}`,
          description:
            'Replaces the document. Needs `If-Match` with the current `ETag`: 428 without it, 412 when the data changed since it was read. Answers the new document and `ETag`.',
          tags: [place.tag],
          security: place.security,
          ...params,
          headers: ifMatchHeaders,
          body: documentSchema,
          response: { 200: { ...documentSchema, headers: etagHeader }, ...problemResponses(...writeStatuses) },
        },
      },
      async (request, reply) => {
        if (readMediaType(request) !== 'application/json') {
          throw new TesseraError(
            'unsupported_media_type',
            'Send the document as application/json (PATCH takes a merge patch).',
          )
        }
        const ownerId = place.ownerOf(request, reply)
        const expected = readExpectedVersions(request.headers['if-match'])
        return sendDocument(reply, await operations.replaceData(ownerId, request.body, expected))
      },
    )

    app.patch(
      place.url,
      {
        onRequest: place.onRequest,
        bodyLimit,
        schema: {
          summary: `Change ${place.what} with a JSON Merge Patch`,
          operationId: `patch${place.name}`,
          description:
            'Applies a JSON Merge Patch (RFC 7396, `application/merge-patch+json`): members set to null are removed, objects merge. Needs `If-Match` with the current `ETag`: 428 without it, 412 when the data changed since it was read.',
          tags: [place.tag],
          security: place.security,
          consumes: [mergePatchType],
          ...params,
          headers: ifMatchHeaders,
          body: documentSchema,
          response: { 200: { ...documentSchema, headers: etagHeader }, ...problemResponses(...writeStatuses) },
        },
      },
      async (request, reply) => {
        if (readMediaType(request) !== mergePatchType) {
          throw new TesseraError('unsupported_media_type', `Send a JSON Merge Patch as ${mergePatchType}.`)
        }
        const ownerId = place.ownerOf(request, reply)
        const expected = readExpectedVersions(request.headers['if-match'])
        return sendDocument(reply, await operations.patchData(ownerId, request.body, expected))
      },
    )
  }
}

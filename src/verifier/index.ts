/**
 * `tessera-verifier` (`tessera/verifier` inside the Tessera repository): verify Tessera access
 * tokens in a resource server (a game server, an API). Only `jose` and `fetch`; no `node:` module,
 * so it also runs outside Node.
 *
 * @example
 * ```ts
 * import { createVerifier, createFastifyAuthHook } from 'tessera-verifier'
 *
 * const verifier = createVerifier({ issuer: 'https://auth.example', audience: 'https://game.example' })
 * app.decorateRequest('principal', null)
 * app.addHook('onRequest', createFastifyAuthHook(verifier))
 * ```
 */
export { createVerifier, requireAuthenticationMethods, requireRecentAuthentication, requireRoles } from './verifier.ts'
export type { AccessTokenAlgorithm, Principal, RequestWithHeaders, Verifier, VerifierOptions } from './verifier.ts'
export { describeVerifierError, VerifierError } from './verifier-error.ts'
export type { VerifierErrorCode, VerifierErrorResponse } from './verifier-error.ts'
export { createFastifyAuthHook, sendVerifierError } from './http-adapters.ts'
export type { HookReply, HookRequest, WritableResponse } from './http-adapters.ts'
export type { IntrospectionOptions } from './introspection-client.ts'
export { readMaxAgeSeconds } from './key-set.ts'
export type { EndedSession, RevocationStreamOptions } from './revocation-stream.ts'
export { createEventStreamParser, readEventStream } from './event-stream.ts'
export type { StreamMessage } from './event-stream.ts'

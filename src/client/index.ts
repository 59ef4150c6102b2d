/**
 * `tessera/client`: the TypeScript SDK of Tessera for browsers, Node and game clients on
 * JavaScript runtimes. It needs `fetch` and nothing else (no `node:` module, no dependency).
 *
 * @example
 * ```ts
 * import { createTesseraClient, TesseraError } from 'tessera/client'
 *
 * const client = createTesseraClient({ baseUrl: 'https://auth.example', onSessionEnd: showSignIn })
 * try {
 *   await client.signIn({ username, password })
 * } catch (error) {
 *   if (error instanceof TesseraError && error.code === 'invalid_credentials') showWrongPassword()
 * }
 * ```
 */
export {
  createTesseraClient,
  type Reauthenticated,
  type SecondFactorProof,
  type TesseraClient,
  type TesseraClientOptions,
} from './client.ts'
export type { AccessToken, SessionInfo, SignedIn, User } from './api-types.ts'
export type { DataDocument, Device, DeviceSignedIn, Ticket, VersionedData } from './game-types.ts'
export type { SessionEndEvent } from './session-keeper.ts'
export type { SessionEndReason } from './tab-coordination.ts'
export type { Transport } from './http.ts'
export {
  readSecondFactorChallenge,
  readTesseraError,
  TesseraError,
  type SecondFactorChallenge,
  type TesseraErrorCode,
} from './tessera-error.ts'
export { localTokenStorage, memoryTokenStorage, type StoredSession, type TokenStorage } from './token-storage.ts'

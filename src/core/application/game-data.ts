/**
 * Session data and player data: a JSON document per session (ends with it) and one per user
 * (kept with the account), read and written with versions (ETag / If-Match). The session's
 * holder and service clients use the same operations; each write checks that the session is
 * alive now (in the durable store, whatever the hot store still holds), so an ended session's
 * data can neither be read nor written on any node. Writes are not audited: they change game
 * state, not who may do what, and a game writes often.
 */
import type { AccountStore } from '../accounts/store.ts'
import { createDocuments, type ExpectedVersions, type VersionedDocument } from '../documents/documents.ts'
import type { DocumentStore } from '../documents/store.ts'
import { TesseraError } from '../errors.ts'
import type { Sessions } from '../sessions/sessions.ts'

export type { ExpectedVersions, VersionedDocument } from '../documents/documents.ts'

export interface GameDataSettings {
  sessionDataMaxBytes: number
  playerDataMaxBytes: number
  /** Guests whose devices have not signed in for this long are deleted. */
  guestRetentionSeconds: number
}

export interface DataOperations {
  /** The document; `not_found` when its owner does not exist (or the session has ended). */
  readData(ownerId: string): Promise<VersionedDocument>
  /** Throws `precondition_required`, `precondition_failed`, `data_too_large` or `not_found`. */
  replaceData(ownerId: string, data: unknown, expected: ExpectedVersions): Promise<VersionedDocument>
  /** JSON Merge Patch (RFC 7396); throws as `replaceData`. */
  patchData(ownerId: string, patch: unknown, expected: ExpectedVersions): Promise<VersionedDocument>
}

export interface GameDataOperations {
  /** Keyed by session id. */
  sessionData: DataOperations
  /** Keyed by user id. */
  playerData: DataOperations
}

export function createGameDataOperations(deps: {
  sessions: Sessions
  accountStore: AccountStore
  sessionDataStore: DocumentStore
  playerDataStore: DocumentStore
  settings: GameDataSettings
}): GameDataOperations {
  const { sessions, accountStore, settings } = deps
  const isSessionLive = async (sessionId: string) => (await sessions.resolveSessionId(sessionId)) !== null
  const sessionDocuments = createDocuments({
    store: deps.sessionDataStore,
    maxBytes: settings.sessionDataMaxBytes,
    hasOwner: isSessionLive,
  })
  const playerDocuments = createDocuments({
    store: deps.playerDataStore,
    maxBytes: settings.playerDataMaxBytes,
    hasOwner: async (userId) => (await accountStore.findUserById(userId)) !== null,
  })

  /** The session must be alive before anything of it is read or written. */
  async function requireLiveSession(sessionId: string): Promise<void> {
    if (!(await isSessionLive(sessionId))) throw new TesseraError('not_found', 'No such session.')
  }

  return {
    sessionData: {
      async readData(sessionId) {
        await requireLiveSession(sessionId)
        return sessionDocuments.readDocument(sessionId)
      },
      async replaceData(sessionId, data, expected) {
        await requireLiveSession(sessionId)
        return sessionDocuments.replaceDocument(sessionId, data, expected)
      },
      async patchData(sessionId, patch, expected) {
        await requireLiveSession(sessionId)
        return sessionDocuments.patchDocument(sessionId, patch, expected)
      },
    },
    playerData: {
      readData: (userId) => playerDocuments.readDocument(userId),
      replaceData: (userId, data, expected) => playerDocuments.replaceDocument(userId, data, expected),
      patchData: (userId, patch, expected) => playerDocuments.patchDocument(userId, patch, expected),
    },
  }
}

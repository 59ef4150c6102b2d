/**
 * Versioned JSON documents, one per owner: a session's data (kept where the session is, and
 * gone with it) and a player's data (kept with the account, and deleted with it). The version
 * starts at 1 with the first write and moves by one with each; 0 stands for "nothing written
 * yet". A write names the version it replaces, and the store decides atomically whether that is
 * still the current one (optimistic concurrency: two writers never both win over one version).
 */
export interface DocumentRecord {
  /** The document as JSON text (a JSON object). */
  json: string
  version: number
}

export type DocumentWrite = { outcome: 'written'; version: number } | { outcome: 'stale' } | { outcome: 'missing' }

export interface DocumentStore {
  /** The owner's document, or null when none was written (or the owner is gone). */
  readDocument(ownerId: string): Promise<DocumentRecord | null>
  /**
   * Replaces the document when its current version is `expectedVersion` (0: none written yet),
   * in one atomic step: `written` with the new version, `stale` when the current version is
   * another, `missing` when the owner (the session or the user) does not exist.
   */
  writeDocument(ownerId: string, json: string, expectedVersion: number): Promise<DocumentWrite>
}

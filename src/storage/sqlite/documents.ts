/**
 * Versioned documents in SQLite: session data (rows deleted with their session by the foreign
 * key) and player data (deleted with the user). Each write is one statement, the compare-and-set
 * in its WHERE clause; node:sqlite runs statements one at a time, so nothing comes between the
 * write and the existence check that names a refusal.
 */
import type { DatabaseSync } from 'node:sqlite'
import type { DocumentStore } from '../../core/documents/store.ts'

/** Where the documents of one kind live: fixed names, never input. */
export interface DocumentTable {
  table: 'session_data' | 'player_data'
  ownerColumn: 'session_id' | 'user_id'
  ownerTable: 'sessions' | 'users'
}

export const sessionDataTable: DocumentTable = {
  table: 'session_data',
  ownerColumn: 'session_id',
  ownerTable: 'sessions',
}
export const playerDataTable: DocumentTable = { table: 'player_data', ownerColumn: 'user_id', ownerTable: 'users' }

export function createSqliteDocumentStore(
  db: DatabaseSync,
  { table, ownerColumn, ownerTable }: DocumentTable,
): DocumentStore {
  const read = db.prepare(`SELECT json, version FROM ${table} WHERE ${ownerColumn} = ?`)
  const insertFirst = db.prepare(`INSERT INTO ${table} (${ownerColumn}, json, version)
    SELECT ?, ?, 1 WHERE EXISTS (SELECT 1 FROM ${ownerTable} WHERE id = ?)
    ON CONFLICT (${ownerColumn}) DO NOTHING`)
  const update = db.prepare(`UPDATE ${table} SET json = ?, version = version + 1
    WHERE ${ownerColumn} = ? AND version = ? RETURNING version`)
  const ownerExists = db.prepare(`SELECT 1 FROM ${ownerTable} WHERE id = ?`)
  const importOne = db.prepare(`INSERT INTO ${table} (${ownerColumn}, json, version)
    SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM ${ownerTable} WHERE id = ?)
    ON CONFLICT (${ownerColumn}) DO NOTHING`)

  return {
    async readDocument(ownerId) {
      const row = read.get(ownerId)
      return row ? { json: String(row.json), version: Number(row.version) } : null
    },

    async writeDocument(ownerId, json, expectedVersion) {
      if (expectedVersion === 0) {
        if (Number(insertFirst.run(ownerId, json, ownerId).changes) === 1) return { outcome: 'written', version: 1 }
      } else {
        const row = update.get(json, ownerId, expectedVersion)
        if (row) return { outcome: 'written', version: Number(row.version) }
      }
      return ownerExists.get(ownerId) ? { outcome: 'stale' } : { outcome: 'missing' }
    },

    async importDocument(ownerId, record) {
      return Number(importOne.run(ownerId, record.json, record.version, ownerId).changes) === 1
    },
  }
}

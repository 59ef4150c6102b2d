/**
 * Versioned documents in PostgreSQL: session data (rows deleted with their session by the
 * foreign key) and player data (deleted with the user). The compare-and-set is the WHERE clause
 * of one UPDATE: under concurrent writes to one version, the later UPDATE waits for the row lock
 * and then re-reads the row, whose version has moved on, so it changes nothing. A first write is
 * an INSERT that yields to a concurrent one on the primary key.
 */
import type { DocumentStore } from '../../core/documents/store.ts'
import type { SqlSession } from './database.ts'

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

export function createPostgresDocumentStore(
  db: SqlSession,
  { table, ownerColumn, ownerTable }: DocumentTable,
): DocumentStore {
  return {
    async readDocument(ownerId) {
      const [row] = await db.query(`SELECT json, version FROM ${table} WHERE ${ownerColumn} = $1`, [ownerId])
      return row ? { json: String(row.json), version: Number(row.version) } : null
    },

    async writeDocument(ownerId, json, expectedVersion) {
      const [row] =
        expectedVersion === 0
          ? await db.query(
              `INSERT INTO ${table} (${ownerColumn}, json, version)
           SELECT $1, $2, 1 WHERE EXISTS (SELECT 1 FROM ${ownerTable} WHERE id = $1)
           ON CONFLICT (${ownerColumn}) DO NOTHING RETURNING version`,
              [ownerId, json],
            )
          : await db.query(
              `UPDATE ${table} SET json = $2, version = version + 1 WHERE ${ownerColumn} = $1 AND version = $3 RETURNING version`,
              [ownerId, json, expectedVersion],
            )
      if (row) return { outcome: 'written', version: Number(row.version) }
      const [owner] = await db.query(`SELECT 1 FROM ${ownerTable} WHERE id = $1`, [ownerId])
      return owner ? { outcome: 'stale' } : { outcome: 'missing' }
    },

    async importDocument(ownerId, record) {
      const rows = await db.query(
        `INSERT INTO ${table} (${ownerColumn}, json, version)
         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM ${ownerTable} WHERE id = $1)
         ON CONFLICT (${ownerColumn}) DO NOTHING RETURNING version`,
        [ownerId, record.json, record.version],
      )
      return rows.length === 1
    },
  }
}

import type { ServiceClientRecord, ServiceClientStore } from '../../core/clients/store.ts'
import { readSqlState, type SqlSession, type Row } from './database.ts'

function toServiceClient(row: Row): ServiceClientRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    secretHash: String(row.secret_hash),
    createdAt: row.created_at as Date,
  }
}

export function createPostgresServiceClientStore(db: SqlSession): ServiceClientStore {
  async function findOne(column: 'id' | 'name', value: string): Promise<ServiceClientRecord | null> {
    const [row] = await db.query(`SELECT * FROM service_clients WHERE ${column} = $1`, [value])
    return row ? toServiceClient(row) : null
  }

  return {
    async insertServiceClient(client) {
      try {
        await db.query('INSERT INTO service_clients (id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4)', [
          client.id,
          client.name,
          client.secretHash,
          client.createdAt,
        ])
        return 'inserted'
      } catch (error) {
        // unique_violation on the name (a taken id is a caller's error and stays one)
        if (
          readSqlState(error) === '23505' &&
          error instanceof Error &&
          'constraint' in error &&
          error.constraint === 'service_clients_name_key'
        ) {
          return 'name_taken'
        }
        throw error
      }
    },

    findServiceClientById: (id) => findOne('id', id),

    findServiceClientByName: (name) => findOne('name', name),

    async listServiceClients() {
      return (await db.query('SELECT * FROM service_clients ORDER BY name')).map(toServiceClient)
    },

    async deleteServiceClient(id) {
      return (await db.query('DELETE FROM service_clients WHERE id = $1 RETURNING id', [id])).length === 1
    },
  }
}

import type { DatabaseSync } from 'node:sqlite'
import type { ServiceClientRecord, ServiceClientStore } from '../../core/clients/store.ts'

function toServiceClient(row: Record<string, unknown>): ServiceClientRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    secretHash: String(row.secret_hash),
    createdAt: new Date(Number(row.created_at)),
  }
}

function isUniqueViolation(error: unknown): boolean {
  // SQLITE_CONSTRAINT_UNIQUE
  return error instanceof Error && 'errcode' in error && error.errcode === 2067
}

export function createSqliteServiceClientStore(db: DatabaseSync): ServiceClientStore {
  const insert = db.prepare('INSERT INTO service_clients (id, name, secret_hash, created_at) VALUES (?, ?, ?, ?)')
  const findById = db.prepare('SELECT * FROM service_clients WHERE id = ?')
  const findByName = db.prepare('SELECT * FROM service_clients WHERE name = ?')
  const listAll = db.prepare('SELECT * FROM service_clients ORDER BY name')
  const deleteById = db.prepare('DELETE FROM service_clients WHERE id = ?')

  return {
    async insertServiceClient(client) {
      try {
        insert.run(client.id, client.name, client.secretHash, client.createdAt.getTime())
        return 'inserted'
      } catch (error) {
        if (isUniqueViolation(error)) return 'name_taken'
        throw error
      }
    },

    async findServiceClientById(id) {
      const row = findById.get(id)
      return row ? toServiceClient(row) : null
    },

    async findServiceClientByName(name) {
      const row = findByName.get(name)
      return row ? toServiceClient(row) : null
    },

    async listServiceClients() {
      return listAll.all().map(toServiceClient)
    },

    async deleteServiceClient(id) {
      return Number(deleteById.run(id).changes) === 1
    },
  }
}

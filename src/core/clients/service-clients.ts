/**
 * Service clients: resource servers (game servers, APIs) that may ask Tessera about tokens
 * through introspection. Each has a public id and a 256-bit random secret shown once at
 * creation; the store keeps the secret's SHA-256 only, which at that entropy is as strong as
 * any slow hash and keeps authentication cheap. Secrets are compared in constant time.
 */
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import { createRandomToken, hashToken, secretsEqual } from '../secrets.ts'
import { ignoreTokenEvent, type RecordTokenEvent } from '../tokens/token-events.ts'
import type { ServiceClientRecord, ServiceClientStore } from './store.ts'

export interface ServiceClients {
  /** Creates a client; throws `validation_failed` for a bad name, `client_name_taken`. */
  createServiceClient(name: string): Promise<{ client: ServiceClientRecord; secret: string }>
  listServiceClients(): Promise<ServiceClientRecord[]>
  /** Deletes the client with this id or name; returns it, or null when there is none. */
  deleteServiceClient(idOrName: string): Promise<ServiceClientRecord | null>
  /** The client when the id and secret match, otherwise null (same work either way). */
  authenticateServiceClient(id: string, secret: string): Promise<ServiceClientRecord | null>
}

const clientNamePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/
const clientIdBytes = 16
const clientSecretBytes = 32
const maxCredentialLength = 256
// Compared against when the id is unknown, so that case costs the same hash and comparison.
const unknownClientHash = hashToken('no client has this secret')

export function createServiceClients(deps: {
  store: ServiceClientStore
  clock: Clock
  recordTokenEvent?: RecordTokenEvent
}): ServiceClients {
  const { store, clock } = deps
  const recordTokenEvent = deps.recordTokenEvent ?? ignoreTokenEvent

  return {
    async createServiceClient(name) {
      if (!clientNamePattern.test(name)) {
        throw new TesseraError(
          'validation_failed',
          'A client name is 1 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit.',
        )
      }
      const secret = createRandomToken(clientSecretBytes)
      const client: ServiceClientRecord = {
        id: createRandomToken(clientIdBytes),
        name,
        secretHash: hashToken(secret),
        createdAt: clock.now(),
      }
      if ((await store.insertServiceClient(client)) === 'name_taken') {
        throw new TesseraError('client_name_taken', 'A service client with this name exists.')
      }
      recordTokenEvent({ type: 'service_client_created', at: client.createdAt, clientId: client.id, name })
      return { client, secret }
    },

    listServiceClients: () => store.listServiceClients(),

    async deleteServiceClient(idOrName) {
      const client = (await store.findServiceClientById(idOrName)) ?? (await store.findServiceClientByName(idOrName))
      if (!client || !(await store.deleteServiceClient(client.id))) return null
      recordTokenEvent({ type: 'service_client_deleted', at: clock.now(), clientId: client.id, name: client.name })
      return client
    },

    async authenticateServiceClient(id, secret) {
      if (id.length > maxCredentialLength || secret.length > maxCredentialLength) return null
      const client = await store.findServiceClientById(id)
      const matches = secretsEqual(hashToken(secret), client?.secretHash ?? unknownClientHash)
      return client && matches ? client : null
    },
  }
}

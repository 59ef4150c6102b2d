/**
 * Service clients: resource servers (game servers, APIs) that may ask Tessera about tokens
 * through introspection. Each has a public id and a 256-bit random secret shown once at
 * creation; the store keeps the secret's SHA-256 only, which at that entropy is as strong as
 * any slow hash and keeps authentication cheap. Secrets are compared in constant time.
 */
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import { createRandomToken, hashToken, secretsEqual } from '../secrets.ts'
import type { ServiceClientRecord, ServiceClientStore } from './store.ts'

export interface ServiceClients {
  /**
   * The record and the secret of a new client; nothing is stored yet. Throws
   * `validation_failed` for a bad name.
   */
  prepareServiceClient(name: string): { client: ServiceClientRecord; secret: string }
  /** The client when the id and secret match, otherwise null (same work either way). */
  authenticateServiceClient(id: string, secret: string): Promise<ServiceClientRecord | null>
}

const clientNamePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/
const clientIdBytes = 16
const clientSecretBytes = 32
const maxCredentialLength = 256
// Compared against when the id is unknown, so that case costs the same hash and comparison.
const unknownClientHash = hashToken('no client has this secret')

export function createServiceClients(deps: { store: ServiceClientStore; clock: Clock }): ServiceClients {
  const { store, clock } = deps

  return {
    prepareServiceClient(name) {
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
      return { client, secret }
    },

    async authenticateServiceClient(id, secret) {
      if (id.length > maxCredentialLength || secret.length > maxCredentialLength) return null
      const client = await store.findServiceClientById(id)
      const matches = secretsEqual(hashToken(secret), client?.secretHash ?? unknownClientHash)
      return client && matches ? client : null
    },
  }
}

/**
 * Signing keys and service clients, as operators manage them, and the OAuth endpoints resource
 * servers call (introspection, revocation). Every change is audited with who made it and from
 * where, in the transaction that makes it.
 */
import type { RealtimeEvents } from '../realtime/event-feed.ts'
import type { RefusalSummaries } from '../audit/refusal-summaries.ts'
import type { ServiceClientRecord } from '../clients/store.ts'
import type { ServiceClients } from '../clients/service-clients.ts'
import { TesseraError } from '../errors.ts'
import type { InvalidationBus } from '../invalidation/bus.ts'
import type { RequestContext } from '../request-context.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { AccessTokens } from '../tokens/access-tokens.ts'
import type { Introspection, TokenIntrospection, TokenType } from '../tokens/introspection.ts'
import type { KeyRing, PublicJwk, RotateKeysOptions, SigningKeyView } from '../tokens/signing-keys.ts'
import type { ServiceClientStore } from '../clients/store.ts'
import type { UnitOfWork } from '../unit-of-work.ts'
import type { AdminActor } from './account-admin.ts'

export interface TokenAdministration {
  listSigningKeys(): SigningKeyView[]
  /** The published JSON Web Key Set. */
  publicJwks(): { keys: PublicJwk[] }
  /** Publishes a new signing key (see KeyRing.prepareRotation); every node serves it at once. */
  rotateSigningKeys(options: RotateKeysOptions, actor: AdminActor): Promise<SigningKeyView>
  listServiceClients(): Promise<ServiceClientRecord[]>
  /** Creates a client; its secret is returned once. Throws `validation_failed`, `client_name_taken`. */
  createServiceClient(name: string, actor: AdminActor): Promise<{ client: ServiceClientRecord; secret: string }>
  /** Deletes the client with this id or name; returns it, or null when there is none. */
  deleteServiceClient(idOrName: string, actor: AdminActor): Promise<ServiceClientRecord | null>
}

export interface OAuthOperations {
  /**
   * The client when the id and secret match; null otherwise, and the failure is recorded (a
   * resource server with a wrong secret, or someone guessing).
   */
  authenticateServiceClient(id: string, secret: string, context: RequestContext): Promise<ServiceClientRecord | null>
  /** What a token is now (RFC 7662); `{ active: false }` for anything not live. */
  introspectToken(token: string, hint?: TokenType): Promise<Introspection>
  /** Ends the session behind a live token (RFC 7009); does nothing for any other input. */
  revokeToken(
    token: string,
    options: { hint?: TokenType; clientId: string | null },
    context: RequestContext,
  ): Promise<void>
}

export function createTokenAdministration(deps: {
  keyRing: KeyRing
  accessTokens: AccessTokens
  serviceClients: ServiceClients
  serviceClientStore: ServiceClientStore
  unitOfWork: UnitOfWork
  invalidationBus: InvalidationBus
  /** Tells stream clients that the signing keys changed (refetch the JWKS). */
  events?: RealtimeEvents
}): TokenAdministration {
  const { keyRing, accessTokens, serviceClients, serviceClientStore, unitOfWork, invalidationBus } = deps

  return {
    listSigningKeys: () => keyRing.listKeys(),
    publicJwks: () => keyRing.publicJwks(),

    async rotateSigningKeys(options, actor) {
      const rotation = await keyRing.prepareRotation(options)
      const { record } = rotation
      await unitOfWork.run(async (change) => {
        await keyRing.storeRotation(change.stores.signingKeys, rotation)
        change.record({
          type: 'key_rotated',
          outcome: 'success',
          reason: 'admin_action',
          actorUserId: actor.actorUserId,
          details: {
            kid: record.kid,
            algorithm: record.algorithm,
            activates_at: record.activatesAt.toISOString(),
            emergency: rotation.isEmergency,
          },
          context: actor.context,
        })
        change.afterCommit(async () => {
          await keyRing.loadKeys()
          accessTokens.forgetRetiredKeys()
          await invalidationBus.publish({ kind: 'signing-keys' })
          await deps.events?.publish({ type: 'keys_rotated' })
        })
      })
      const view = keyRing.describeKey(record.kid)
      if (!view) throw new Error('the new signing key was not loaded')
      return view
    },

    listServiceClients: () => serviceClientStore.listServiceClients(),

    async createServiceClient(name, actor) {
      const created = serviceClients.prepareServiceClient(name)
      const { client } = created
      await unitOfWork.run(async (change) => {
        if ((await change.stores.serviceClients.insertServiceClient(client)) === 'name_taken') {
          throw new TesseraError('client_name_taken', 'A service client with this name exists.')
        }
        change.record({
          type: 'client_created',
          outcome: 'success',
          reason: 'admin_action',
          actorUserId: actor.actorUserId,
          details: { client_id: client.id, name: client.name },
          context: actor.context,
        })
      })
      return created
    },

    async deleteServiceClient(idOrName, actor) {
      return unitOfWork.run(async (change) => {
        const store = change.stores.serviceClients
        const client = (await store.findServiceClientById(idOrName)) ?? (await store.findServiceClientByName(idOrName))
        if (!client || !(await store.deleteServiceClient(client.id))) return null
        change.record({
          type: 'client_deleted',
          outcome: 'success',
          reason: 'admin_action',
          actorUserId: actor.actorUserId,
          details: { client_id: client.id, name: client.name },
          context: actor.context,
        })
        return client
      })
    },
  }
}

export function createOAuthOperations(deps: {
  serviceClients: ServiceClients
  tokenIntrospection: TokenIntrospection
  sessions: Sessions
  refusals: RefusalSummaries
  unitOfWork: UnitOfWork
}): OAuthOperations {
  const { serviceClients, tokenIntrospection, sessions, refusals, unitOfWork } = deps

  return {
    async authenticateServiceClient(id, secret, context) {
      const client = await serviceClients.authenticateServiceClient(id, secret)
      if (!client) {
        // Counted per kind and window: anyone can send wrong secrets at full speed.
        await refusals.recordRefusal({
          type: 'client_authentication_failed',
          outcome: 'failure',
          reason: 'invalid_input',
          // The presented id may be anything, a secret pasted in the wrong field too: the trail keeps
          // it as a keyed digest like any name that is no account's (attempted-username.ts).
          username: id,
          context,
        })
      }
      return client
    },

    introspectToken: (token, hint) => tokenIntrospection.introspectToken(token, hint),

    async revokeToken(token, { hint, clientId }, context) {
      const found = await tokenIntrospection.findRevocableSession(token, hint)
      if (!found) return
      const { session, tokenType } = found
      await unitOfWork.run(async (change) => {
        await sessions.endSessionsIn(change, [session], 'token_revoked')
        change.record({
          type: 'token_revoked',
          outcome: 'success',
          subjectUserId: session.userId,
          sessionId: session.id,
          details: { presented: tokenType, client_id: clientId },
          context,
        })
      })
    },
  }
}

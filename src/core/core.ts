/**
 * Builds the domain services from their stores, a clock and config slices. Knows nothing of
 * HTTP, of any database driver or of the environment.
 */
import { createAccounts, type Accounts } from './accounts/accounts.ts'
import type { UserRecord } from './accounts/store.ts'
import { createAuthentication, type Authentication } from './auth/authentication.ts'
import { createCsrfTokens, type CsrfTokens } from './auth/csrf-tokens.ts'
import type { Clock } from './clock.ts'
import type { Argon2Parameters } from './passwords/argon2id.ts'
import { createHashLimiter, type HashLimiter } from './passwords/hash-limiter.ts'
import { createPasswordHasher } from './passwords/password-hasher.ts'
import { createSessions, type SessionSettings, type Sessions } from './sessions/sessions.ts'
import type { Stores } from './stores.ts'
import { createAccessTokens, type AccessTokenSettings, type AccessTokens } from './tokens/access-tokens.ts'
import { createKeyProtector, deriveSecret } from './tokens/key-protection.ts'
import { createKeyRing, type KeyRing, type SigningKeyView } from './tokens/signing-keys.ts'
import type { SigningAlgorithm } from './tokens/store.ts'
import { createServiceClients, type ServiceClients } from './clients/service-clients.ts'
import { createTokenIntrospection, type TokenIntrospection } from './tokens/introspection.ts'
import { createRefreshTokens, type RefreshTokens } from './tokens/refresh-tokens.ts'
import { ignoreTokenEvent, type RecordTokenEvent } from './tokens/token-events.ts'

export interface CoreSettings {
  tokens: AccessTokenSettings & {
    signingAlgorithm: SigningAlgorithm
    refreshGraceSeconds: number
    keyActivationDelaySeconds: number
  }
  sessions: SessionSettings
  passwords: {
    argon2: Argon2Parameters
    hashConcurrency: number
    hashQueue: number
    minLength: number
    maxLength: number
  }
}

export interface Core {
  accounts: Accounts
  sessions: Sessions
  authentication: Authentication
  accessTokens: AccessTokens
  keyRing: KeyRing
  csrfTokens: CsrfTokens
  hashLimiter: HashLimiter
  /** Replaces a user's roles; sessions of the user see the change on their next request. */
  replaceUserRoles(userId: string, roles: readonly string[]): Promise<UserRecord>
  /** Checks that the stores answer; throws otherwise. */
  checkReadiness(): Promise<void>
  refreshTokens: RefreshTokens
  serviceClients: ServiceClients
  tokenIntrospection: TokenIntrospection
  /** Publishes a new signing key (it signs after the activation delay); schedules the old ones' retirement. */
  rotateSigningKeys(options?: { algorithm?: SigningAlgorithm }): Promise<SigningKeyView>
  /** Picks up keys added by another process and forgets tokens verified by retired keys. */
  reloadSigningKeys(): Promise<void>
}

export async function createCore(deps: {
  stores: Stores
  clock: Clock
  settings: CoreSettings
  masterKey: Uint8Array
  /** Receives reuse, revocation, key and client events (never a secret). */
  recordTokenEvent?: RecordTokenEvent
}): Promise<Core> {
  const { stores, clock, settings, masterKey } = deps
  const recordTokenEvent = deps.recordTokenEvent ?? ignoreTokenEvent
  const refreshTokens = createRefreshTokens({
    store: stores.refreshTokens,
    clock,
    secret: deriveSecret(masterKey, 'tessera refresh token successors'),
    settings: settings.tokens,
  })
  const hashLimiter = createHashLimiter({
    concurrency: settings.passwords.hashConcurrency,
    maxQueue: settings.passwords.hashQueue,
  })
  const hasher = createPasswordHasher({ parameters: settings.passwords.argon2, limiter: hashLimiter })
  const accounts = createAccounts({
    store: stores.accounts,
    clock,
    hasher,
    policy: { minLength: settings.passwords.minLength, maxLength: settings.passwords.maxLength },
  })
  const sessions = createSessions({
    sessionStore: stores.sessions,
    accountStore: stores.accounts,
    refreshTokens,
    clock,
    settings: settings.sessions,
    recordTokenEvent,
  })
  const keyRing = createKeyRing({
    store: stores.signingKeys,
    clock,
    protector: createKeyProtector(masterKey),
    settings: settings.tokens,
  })
  await keyRing.loadKeys()
  const accessTokens = createAccessTokens({ keyRing, clock, settings: settings.tokens })
  const authentication = createAuthentication({ accounts, sessions, accessTokens })

  return {
    accounts,
    sessions,
    authentication,
    accessTokens,
    keyRing,
    csrfTokens: createCsrfTokens(deriveSecret(masterKey, 'tessera csrf tokens')),
    hashLimiter,
    async replaceUserRoles(userId, roles) {
      const user = await accounts.replaceRoles(userId, roles)
      sessions.forgetUser(userId)
      return user
    },
    checkReadiness: () => stores.checkHealth(),
    refreshTokens,
    serviceClients: createServiceClients({ store: stores.serviceClients, clock, recordTokenEvent }),
    tokenIntrospection: createTokenIntrospection({
      accessTokens,
      refreshTokens,
      sessions,
      clock,
      settings: settings.sessions,
      recordTokenEvent,
    }),
    async rotateSigningKeys(options) {
      const key = await keyRing.rotateKeys(options)
      const { kid, algorithm, activatesAt } = key
      recordTokenEvent({ type: 'signing_key_rotated', at: clock.now(), kid, algorithm, activatesAt })
      return key
    },
    async reloadSigningKeys() {
      await keyRing.loadKeys()
      accessTokens.forgetRetiredKeys()
    },
  }
}

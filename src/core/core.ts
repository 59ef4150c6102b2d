/**
 * Builds the domain services from their stores, a clock and config slices. Knows nothing of
 * HTTP, of any database driver or of the environment.
 */
import { createAccounts, type Accounts } from './accounts/accounts.ts'
import type { UserRecord } from './accounts/store.ts'
import { createAuthentication, type Authentication } from './auth/authentication.ts'
import { createCsrfTokens, type CsrfTokens } from './auth/csrf-tokens.ts'
import type { Clock } from './clock.ts'
import { createLocalInvalidationBus, type InvalidationBus } from './invalidation/bus.ts'
import { connectCachesToBus } from './invalidation/cache-coherence.ts'
import type { Argon2Parameters } from './passwords/argon2id.ts'
import { createHashLimiter, type HashLimiter } from './passwords/hash-limiter.ts'
import { createPasswordHasher } from './passwords/password-hasher.ts'
import { createSessions, type SessionSettings, type Sessions } from './sessions/sessions.ts'
import type { Stores } from './stores.ts'
import { createAccessTokens, type AccessTokenSettings, type AccessTokens } from './tokens/access-tokens.ts'
import { createKeyProtector, deriveSecret } from './tokens/key-protection.ts'
import { createKeyRing, type KeyRing } from './tokens/signing-keys.ts'
import type { SigningAlgorithm } from './tokens/store.ts'

export interface CoreSettings {
  tokens: AccessTokenSettings & { signingAlgorithm: SigningAlgorithm }
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
}

export async function createCore(deps: {
  stores: Stores
  clock: Clock
  settings: CoreSettings
  masterKey: Uint8Array
  /** Shared with the other nodes; a node alone needs none. */
  invalidationBus?: InvalidationBus
}): Promise<Core> {
  const { stores, clock, settings, masterKey } = deps
  const invalidationBus = deps.invalidationBus ?? createLocalInvalidationBus()
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
    clock,
    settings: settings.sessions,
    invalidationBus,
  })
  const keyRing = createKeyRing({
    store: stores.signingKeys,
    clock,
    protector: createKeyProtector(masterKey),
    algorithm: settings.tokens.signingAlgorithm,
  })
  await keyRing.loadKeys()
  connectCachesToBus({ bus: invalidationBus, sessions, keyRing })
  // The first node to start may have just created the first key: others must load it.
  await invalidationBus.publish({ kind: 'signing-keys' })
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
      await invalidationBus.publish({ kind: 'user', userId })
      return user
    },
    checkReadiness: () => stores.checkHealth(),
  }
}

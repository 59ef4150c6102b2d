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
import { createKeyRing, type KeyRing } from './tokens/signing-keys.ts'
import type { SigningAlgorithm } from './tokens/store.ts'
import { createThrottledAuthentication } from './auth/throttled-authentication.ts'
import { createPasswordBlocklist } from './passwords/blocklist.ts'
import { createAccountAdministration, type AccountAdministration } from './accounts/account-administration.ts'
import { createUserImport } from './accounts/import-users.ts'
import { loadCommonPasswords } from './passwords/common-passwords.ts'
import { createThrottle, defaultThrottleSettings, type Throttle, type ThrottleSettings } from './throttle/throttle.ts'

export interface CoreSettings {
  tokens: AccessTokenSettings & { signingAlgorithm: SigningAlgorithm }
  sessions: SessionSettings
  passwords: {
    argon2: Argon2Parameters
    hashConcurrency: number
    hashQueue: number
    minLength: number
    maxLength: number
    /** Words new passwords may not be built on, besides the username and "tessera". */
    contextWords?: readonly string[]
  }
  /** Throttling and lock-out; the documented defaults when absent. */
  throttle?: ThrottleSettings
}

export interface Core {
  accounts: Accounts
  sessions: Sessions
  authentication: Authentication
  accessTokens: AccessTokens
  keyRing: KeyRing
  csrfTokens: CsrfTokens
  hashLimiter: HashLimiter
  throttle: Throttle
  accountAdministration: AccountAdministration
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
}): Promise<Core> {
  const { stores, clock, settings, masterKey } = deps
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
    blocklist: createPasswordBlocklist({ loadCommonPasswords, contextWords: settings.passwords.contextWords ?? [] }),
  })
  const sessions = createSessions({
    sessionStore: stores.sessions,
    accountStore: stores.accounts,
    clock,
    settings: settings.sessions,
  })
  const keyRing = createKeyRing({
    store: stores.signingKeys,
    clock,
    protector: createKeyProtector(masterKey),
    algorithm: settings.tokens.signingAlgorithm,
  })
  await keyRing.loadKeys()
  const accessTokens = createAccessTokens({ keyRing, clock, settings: settings.tokens })
  const authentication = createAuthentication({ accounts, sessions, accessTokens })
  const throttle = createThrottle({ store: stores.throttles, clock, settings: settings.throttle ?? defaultThrottleSettings })

  return {
    accounts,
    sessions,
    authentication: createThrottledAuthentication(authentication, throttle),
    accessTokens,
    keyRing,
    csrfTokens: createCsrfTokens(deriveSecret(masterKey, 'tessera csrf tokens')),
    hashLimiter,
    throttle,
    accountAdministration: createAccountAdministration({
      accounts,
      throttle,
      userImport: createUserImport({ store: stores.accounts, clock }),
    }),
    async replaceUserRoles(userId, roles) {
      const user = await accounts.replaceRoles(userId, roles)
      sessions.forgetUser(userId)
      return user
    },
    checkReadiness: () => stores.checkHealth(),
  }
}

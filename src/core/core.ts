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
import { createKeyRing, type KeyRing, type RotateKeysOptions, type SigningKeyView } from './tokens/signing-keys.ts'
import type { SigningAlgorithm } from './tokens/store.ts'
import { createAlerts, type Alerts } from './alerts/alerts.ts'
import { createAlertDelivery, type AlertDelivery, type WebhookPoster } from './alerts/webhook-delivery.ts'
import { createAudit, type Audit } from './audit/audit.ts'
import { defaultAuditSettings, type AuditSettings } from './audit/settings.ts'
import { createRegistration, type Registration } from './auth/registration.ts'
import { createRoleChanges } from './auth/role-changes.ts'
import { silentObserver, type CoreObserver } from './observer.ts'
import { createTimedHashLimiter } from './passwords/timed-hash-limiter.ts'
import type { RequestContext } from './request-context.ts'
import { createBackgroundJobs } from './review/background-jobs.ts'
import { createSecurityReview, type SecurityReview } from './review/review.ts'
import { createScheduler, type Scheduler } from './scheduler/scheduler.ts'
import { createSessionRevocation, type SessionRevocation } from './sessions/session-revocation.ts'
import { createThrottledAuthentication } from './auth/throttled-authentication.ts'
import { createPasswordBlocklist } from './passwords/blocklist.ts'
import { createAccountAdministration, type AccountAdministration } from './accounts/account-administration.ts'
import { createUserImport } from './accounts/import-users.ts'
import { loadCommonPasswords } from './passwords/common-passwords.ts'
import { createThrottle, defaultThrottleSettings, type Throttle, type ThrottleSettings } from './throttle/throttle.ts'
import { createServiceClients, type ServiceClients } from './clients/service-clients.ts'
import { createTokenIntrospection, type TokenIntrospection } from './tokens/introspection.ts'
import { createRefreshTokens, type RefreshTokens } from './tokens/refresh-tokens.ts'
import { ignoreTokenEvent, type RecordTokenEvent } from './tokens/token-events.ts'
import { createAuditedTokenEvents } from './audit/token-events.ts'
import { createAttemptedUsernames } from './audit/attempted-username.ts'

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
    /** Words new passwords may not be built on, besides the username and "tessera". */
    contextWords?: readonly string[]
  }
  /** Audit trail, review, alerts and background jobs; `defaultAuditSettings` when absent. */
  audit?: AuditSettings
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
  replaceUserRoles(
    userId: string,
    roles: readonly string[],
    actor: { actorUserId: string | null; context: RequestContext },
  ): Promise<UserRecord>
  audit: Audit
  alerts: Alerts
  review: SecurityReview
  /** Null when no webhook is configured. */
  alertDelivery: AlertDelivery | null
  scheduler: Scheduler
  registration: Registration
  sessionRevocation: SessionRevocation
  /** Sessions neither idle nor past their absolute timeout now (for the metrics gauge). */
  countActiveSessions(): Promise<number>
  /** Checks that the stores answer; throws otherwise. */
  checkReadiness(): Promise<void>
  refreshTokens: RefreshTokens
  serviceClients: ServiceClients
  tokenIntrospection: TokenIntrospection
  /** Publishes a new signing key (it signs after the activation delay, or at once in an emergency); schedules the old ones' retirement. */
  rotateSigningKeys(options?: RotateKeysOptions): Promise<SigningKeyView>
  /** Picks up keys added by another process and forgets tokens verified by retired keys. */
  reloadSigningKeys(): Promise<void>
}

export async function createCore(deps: {
  stores: Stores
  clock: Clock
  settings: CoreSettings
  masterKey: Uint8Array
  /** Receives metrics-worthy facts and audit write failures; silent when absent. */
  observer?: CoreObserver
  /** Sends alert webhooks (an HTTP client lives outside the core); needed with a webhook. */
  postWebhook?: WebhookPoster
  /** Also receives reuse, revocation, key and client events (never a secret); they are audited anyway. */
  recordTokenEvent?: RecordTokenEvent
  /** Shared with the other nodes; a node alone needs none. */
  invalidationBus?: InvalidationBus
}): Promise<Core> {
  const { stores, clock, settings, masterKey } = deps
  const invalidationBus = deps.invalidationBus ?? createLocalInvalidationBus()
  const observer = deps.observer ?? silentObserver
  const auditSettings = settings.audit ?? defaultAuditSettings
  const usernames = createAttemptedUsernames({
    secret: deriveSecret(masterKey, 'tessera attempted usernames'),
    isAccountKey: async (usernameKey) => (await stores.accounts.findUserByUsernameKey(usernameKey)) !== null,
  })
  const audit = createAudit({ store: stores.audit, clock, nodeId: auditSettings.nodeId, observer, usernames })
  const recordTokenEvent = createAuditedTokenEvents(audit, deps.recordTokenEvent ?? ignoreTokenEvent)
  const refreshTokens = createRefreshTokens({
    store: stores.refreshTokens,
    clock,
    secret: deriveSecret(masterKey, 'tessera refresh token successors'),
    settings: settings.tokens,
  })
  const hashLimiter = createTimedHashLimiter(
    createHashLimiter({ concurrency: settings.passwords.hashConcurrency, maxQueue: settings.passwords.hashQueue }),
    (seconds) => observer.passwordHashTimed(seconds),
  )
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
    refreshTokens,
    clock,
    settings: settings.sessions,
    audit,
    recordTokenEvent,
    invalidationBus,
  })
  const keyRing = createKeyRing({
    store: stores.signingKeys,
    clock,
    protector: createKeyProtector(masterKey),
    settings: settings.tokens,
  })
  await keyRing.loadKeys()
  connectCachesToBus({ bus: invalidationBus, sessions, keyRing })
  // The first node to start may have just created the first key: others must load it.
  await invalidationBus.publish({ kind: 'signing-keys' })
  const accessTokens = createAccessTokens({ keyRing, clock, settings: settings.tokens })
  const authentication = createAuthentication({ accounts, sessions, accessTokens, audit })
  const throttle = createThrottle({ store: stores.throttles, clock, settings: settings.throttle ?? defaultThrottleSettings })
  const roleChanges = createRoleChanges({ accounts, sessions, audit })
  const alerts = createAlerts({
    store: stores.alerts,
    clock,
    observer,
    settings: { dedupeWindowSeconds: auditSettings.alertDedupeWindowSeconds, isWebhookConfigured: auditSettings.webhook !== null },
  })
  const review = createSecurityReview({ auditStore: stores.audit, alerts, settings: auditSettings.review })
  if (auditSettings.webhook && !deps.postWebhook) throw new TypeError('a webhook is configured but no poster was given')
  const alertDelivery = auditSettings.webhook && deps.postWebhook
    ? createAlertDelivery({ store: stores.alerts, clock, settings: auditSettings.webhook, post: deps.postWebhook })
    : null
  const scheduler = createScheduler({
    store: stores.schedulerLocks,
    clock,
    nodeId: auditSettings.nodeId,
    jobs: createBackgroundJobs({ review, audit, alerts, delivery: alertDelivery, settings: auditSettings }),
    leaseSeconds: auditSettings.schedulerLeaseSeconds,
    maxLatenessSeconds: 3600,
  })

  return {
    accounts,
    sessions,
    authentication: createThrottledAuthentication(authentication, throttle, audit),
    accessTokens,
    keyRing,
    csrfTokens: createCsrfTokens(deriveSecret(masterKey, 'tessera csrf tokens')),
    hashLimiter,
    async replaceUserRoles(userId, roles, actor) {
      const user = await roleChanges.replaceUserRoles(userId, roles, actor)
      await invalidationBus.publish({ kind: 'user', userId })
      return user
    },
    audit,
    alerts,
    review,
    alertDelivery,
    scheduler,
    registration: createRegistration({ accounts, audit }),
    sessionRevocation: createSessionRevocation({ sessions, audit }),
    throttle,
    accountAdministration: createAccountAdministration({
      accounts,
      throttle,
      userImport: createUserImport({ store: stores.accounts, clock, argon2: settings.passwords.argon2 }),
      audit,
    }),
    countActiveSessions() {
      const now = clock.now()
      const idleCutoff = new Date(now.getTime() - settings.sessions.idleTimeoutSeconds * 1000)
      return stores.sessions.countActiveSessions(idleCutoff, now)
    },
    checkReadiness: () => stores.checkHealth(),
    refreshTokens,
    serviceClients: createServiceClients({ store: stores.serviceClients, clock, recordTokenEvent }),
    tokenIntrospection: createTokenIntrospection({
      accessTokens,
      refreshTokens,
      sessions,
      clock,
      settings: { ...settings.sessions, clientId: settings.tokens.clientId },
      recordTokenEvent,
    }),
    async rotateSigningKeys(options) {
      const key = await keyRing.rotateKeys(options)
      await invalidationBus.publish({ kind: 'signing-keys' })
      const { kid, algorithm, activatesAt } = key
      const emergency = options?.emergency === true
      recordTokenEvent({ type: 'signing_key_rotated', at: clock.now(), kid, algorithm, activatesAt, emergency })
      return key
    },
    async reloadSigningKeys() {
      await keyRing.loadKeys()
      accessTokens.forgetRetiredKeys()
    },
  }
}

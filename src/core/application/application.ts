/**
 * The application: the operations users and operators perform, built from the stores, a clock
 * and the settings. HTTP routes and CLI commands receive these operations (each the group it
 * uses) and nothing below them: every operation audits and invalidates as it must, so no caller
 * can change state around the audit trail or the caches. Knows nothing of HTTP, of any database
 * driver or of the environment.
 */
import { singleFlight } from '../single-flight.ts'
import { createAccounts } from '../accounts/accounts.ts'
import { createAlerts } from '../alerts/alerts.ts'
import { createAlertDelivery, type AlertDelivery, type WebhookPoster } from '../alerts/webhook-delivery.ts'
import { createAttemptedUsernames } from '../audit/attempted-username.ts'
import { createAudit } from '../audit/audit.ts'
import { createRefusalSummaries } from '../audit/refusal-summaries.ts'
import type { AuditSettings } from '../audit/settings.ts'
import { createCsrfTokens } from '../auth/csrf-tokens.ts'
import type { Clock } from '../clock.ts'
import { createServiceClients } from '../clients/service-clients.ts'
import { createLocalInvalidationBus, type InvalidationBus } from '../invalidation/bus.ts'
import { connectCachesToBus } from '../invalidation/cache-coherence.ts'
import { silentObserver, type CoreObserver } from '../observer.ts'
import { createEventFeed, type EventFeed, type EventFeedSettings } from '../realtime/event-feed.ts'
import type { Argon2Parameters } from '../passwords/argon2id.ts'
import { createPasswordBlocklist } from '../passwords/blocklist.ts'
import { loadCommonPasswords } from '../passwords/common-passwords.ts'
import { createHashLimiter } from '../passwords/hash-limiter.ts'
import { createPasswordHasher } from '../passwords/password-hasher.ts'
import { createTimedHashLimiter } from '../passwords/timed-hash-limiter.ts'
import { createBackgroundJobs } from '../review/background-jobs.ts'
import { createSecurityReview, type ReviewOutcome } from '../review/review.ts'
import { createScheduler, type JobRun, type Scheduler } from '../scheduler/scheduler.ts'
import { createSessions, type SessionSettings } from '../sessions/sessions.ts'
import type { Stores } from '../stores.ts'
import type { RequestThrottle } from '../throttle/request-throttle.ts'
import { createThrottle, type ThrottleSettings } from '../throttle/throttle.ts'
import { createAccessTokens, type AccessTokenSettings } from '../tokens/access-tokens.ts'
import { createTokenIntrospection } from '../tokens/introspection.ts'
import { createKeyProtector, deriveSecret } from '../tokens/key-protection.ts'
import { createRefreshTokens } from '../tokens/refresh-tokens.ts'
import { createKeyRing } from '../tokens/signing-keys.ts'
import type { SigningAlgorithm } from '../tokens/store.ts'
import { createUnitOfWork } from '../unit-of-work.ts'
import { createAccountAdministration, type AccountAdministration } from './account-admin.ts'
import { createAccountLifecycleOperations, type AccountLifecycleOperations } from './account-lifecycle.ts'
import { createPresenceOperations, type PresenceOperations } from './presence.ts'
import { createAuditTrailOperations, type AuditTrailOperations } from './audit-trail.ts'
import { createMySessionOperations, type MySessionOperations } from './my-sessions.ts'
import { createSignInOperations, type SignInOperations } from './sign-in.ts'
import { createStepUp } from '../auth/step-up.ts'
import { createPasskeys } from '../passkeys/passkeys.ts'
import { createProofChecks } from '../second-factor/proofs.ts'
import { createPasskeyOperations, type PasskeyOperations } from './passkeys.ts'
import { createGameDataOperations, type GameDataOperations, type GameDataSettings } from './game-data.ts'
import { createTicketOperations, type TicketOperations } from './tickets.ts'
import { createDeviceOperations, type DeviceOperations } from './devices.ts'
import {
  createSecondFactorOperations,
  type RecoveryCodeNotice,
  type SecondFactorOperations,
  type SecondFactorSettings,
} from './second-factor.ts'
import {
  createSecondFactorGate,
  createSecondFactorSignIn,
  type SecondFactorSignInOperations,
} from './second-factor-sign-in.ts'
import { createEmailOperations, type EmailOperations, type EmailSettings } from './email.ts'
import { createMailOutbox, type Mailer, type MailOutboxSettings } from '../email/mailer.ts'
import {
  createOAuthOperations,
  createTokenAdministration,
  type OAuthOperations,
  type TokenAdministration,
} from './token-administration.ts'

export interface ApplicationSettings {
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
    contextWords: readonly string[]
  }
  audit: AuditSettings
  throttle: ThrottleSettings
  secondFactor: SecondFactorSettings
  email: EmailSettings & { outbox: MailOutboxSettings }
  eventStream: EventFeedSettings
  gameData: GameDataSettings
}

export type { StreamItem } from '../realtime/event-feed.ts'
export { describeEventData } from '../realtime/events.ts'

/** What a stream client (a game server) follows: sessions ended, roles changed, keys rotated. */
export interface EventStreamOperations {
  follow: EventFeed['follow']
}

export interface Health {
  /** Fails when a store cannot answer (used by /readyz). */
  checkReadiness(): Promise<void>
  /** Sessions neither idle nor past their absolute timeout now (for the metrics gauge). */
  countActiveSessions(): Promise<number>
}

/** The housekeeping a running server (or a test) triggers; no request reaches it. */
export interface Maintenance {
  /** Deletes what has expired (sessions, throttle counters, retired keys); each returns how many. */
  sweeps: ReadonlyArray<{ name: string; run(): Promise<number> }>
  /** Picks up keys added by another process and forgets tokens verified by retired keys. */
  reloadSigningKeys(): Promise<void>
  /** The review, report, retention and delivery jobs. */
  scheduler: Scheduler
  runDueJobs(): Promise<JobRun[]>
  runReview(at: Date): Promise<ReviewOutcome>
  /** Null when no webhook is configured. */
  alertDelivery: AlertDelivery | null
}

export interface Application {
  signIn: SignInOperations
  mySessions: MySessionOperations
  accountAdmin: AccountAdministration
  /** Kick, disable and enable, delete, set a password or require a new one. */
  accountLifecycle: AccountLifecycleOperations
  /** Who is online: users with live sessions and their last activity. */
  presence: PresenceOperations
  tokenAdmin: TokenAdministration
  oauth: OAuthOperations
  auditTrail: AuditTrailOperations
  /** TOTP enrolment, recovery codes, step-up checks, the role rule, the admin view and reset. */
  secondFactor: SecondFactorOperations
  /** The second step of a sign-in, and re-authentication. */
  mfaSignIn: SecondFactorSignInOperations
  /** Passkey registration and management, and sign-in with a passkey alone. */
  passkeys: PasskeyOperations
  /** The account's email address, its verification, and password reset by email. */
  email: EmailOperations
  /** Session data and player data, with versions (ETag / If-Match). */
  gameData: GameDataOperations
  /** One-time tickets for game-server and WebSocket handshakes. */
  tickets: TicketOperations
  /** Device sign-in, guests, linking devices and adding credentials to a guest. */
  devices: DeviceOperations
  /** Per-network limits of endpoints that verify no password (registration, refresh, …). */
  requestLimits: RequestThrottle
  /** The real-time event stream of service clients. */
  eventStream: EventStreamOperations
  health: Health
  maintenance: Maintenance
}

export async function createApplication(deps: {
  stores: Stores
  clock: Clock
  settings: ApplicationSettings
  masterKey: Uint8Array
  /** Receives metrics-worthy facts and audit write failures; silent when absent. */
  observer?: CoreObserver
  /** Sends alert webhooks (an HTTP client lives outside the core); needed with a webhook. */
  postWebhook?: WebhookPoster
  /** Shared with the other nodes; a node alone needs none. */
  invalidationBus?: InvalidationBus
  /**
   * Called after a recovery code was used to sign in or re-authenticate: where a mail (or other
   * alert) to the account's owner is sent from. The use is audited whether or not it is given.
   */
  onRecoveryCodeUsed?: (notice: RecoveryCodeNotice) => void | Promise<void>
  /** Sends mail (SMTP lives outside the core); without one, reset and verification are off. */
  mailer?: Mailer | null
  /** Told when a mail job fails, times out or is dropped, by kind (never its content). */
  onMailFailed?: (kind: string, reason: 'failed' | 'timed_out' | 'dropped', error?: unknown) => void
}): Promise<Application> {
  const { stores, clock, settings, masterKey } = deps
  const invalidationBus = deps.invalidationBus ?? createLocalInvalidationBus()
  const eventFeed = createEventFeed({ bus: invalidationBus, clock, settings: settings.eventStream })
  const observer = deps.observer ?? silentObserver
  const auditSettings = settings.audit
  const usernames = createAttemptedUsernames({
    secret: deriveSecret(masterKey, 'tessera attempted usernames'),
    accounts: stores.accounts,
  })
  const audit = createAudit({ store: stores.audit, clock, nodeId: auditSettings.nodeId, observer, usernames })
  const unitOfWork = createUnitOfWork({ stores, audit })
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
  const accounts = createAccounts({
    store: stores.accounts,
    clock,
    hasher: createPasswordHasher({ parameters: settings.passwords.argon2, limiter: hashLimiter }),
    policy: { minLength: settings.passwords.minLength, maxLength: settings.passwords.maxLength },
    blocklist: createPasswordBlocklist({ loadCommonPasswords, contextWords: settings.passwords.contextWords }),
  })
  const sessions = createSessions({
    sessionStore: stores.sessions,
    accountStore: stores.accounts,
    revokedSessionStore: stores.revokedSessions,
    refreshTokens,
    clock,
    settings: settings.sessions,
    audit,
    invalidationBus,
    events: eventFeed,
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
  const throttle = createThrottle({ store: stores.throttles, clock, settings: settings.throttle })
  const alerts = createAlerts({
    store: stores.alerts,
    clock,
    observer,
    settings: {
      dedupeWindowSeconds: auditSettings.alertDedupeWindowSeconds,
      isWebhookConfigured: auditSettings.webhook !== null,
    },
  })
  const review = createSecurityReview({ auditStore: stores.audit, alerts, settings: auditSettings.review })
  if (auditSettings.webhook && !deps.postWebhook) throw new TypeError('a webhook is configured but no poster was given')
  const alertDelivery =
    auditSettings.webhook && deps.postWebhook
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
  const serviceClients = createServiceClients({ store: stores.serviceClients, clock })
  const refusals = createRefusalSummaries({ audit, clock, settings: auditSettings.refusalSummaries })
  // Its own key, derived for this purpose alone: TOTP secrets and signing keys never share one.
  const protector = createKeyProtector(deriveSecret(masterKey, 'tessera totp secrets'))
  const passkeys = createPasskeys({ store: stores.passkeys, clock, settings: settings.secondFactor.webauthn })
  const proofChecks = createProofChecks({ store: stores.secondFactors, passkeys, protector, clock })
  const stepUp = createStepUp({
    clock,
    maxAgeSeconds: settings.secondFactor.reauthenticationMaxAgeSeconds,
    hasSecondFactor: async (userId) => (await proofChecks.findConfirmedTotp(userId)) !== null,
  })
  const secondFactorGate = createSecondFactorGate({
    store: stores.secondFactors,
    passkeyStore: stores.passkeys,
    checks: proofChecks,
    audit,
    clock,
  })

  const email = createEmailOperations({
    accounts,
    emails: stores.emails,
    throttles: stores.throttles,
    signInThrottle: throttle,
    sessions,
    stepUp,
    audit,
    unitOfWork,
    clock,
    mailer: deps.mailer ?? null,
    outbox: createMailOutbox({ settings: settings.email.outbox, onJobFailed: deps.onMailFailed ?? (() => {}) }),
    settings: settings.email,
  })
  const onRecoveryCodeUsed = async (notice: RecoveryCodeNotice) => {
    email.queueNotice(notice.user, (username) => ({
      kind: 'recovery_code_used',
      username,
      at: clock.now(),
      codesLeft: notice.remainingCodes,
    }))
    await deps.onRecoveryCodeUsed?.(notice)
  }
  const devices = createDeviceOperations({
    store: stores.devices,
    accounts,
    sessions,
    accessTokens,
    audit,
    unitOfWork,
    requestLimits: { admitRequest: throttle.admitRequest },
    clock,
    settings: settings.gameData,
  })

  return {
    signIn: createSignInOperations({
      accounts,
      sessions,
      accessTokens,
      audit,
      refusals,
      unitOfWork,
      throttle,
      csrfTokens: createCsrfTokens(deriveSecret(masterKey, 'tessera csrf tokens')),
      clock,
      secondFactorGate,
      stepUp,
      mail: {
        queueVerificationMail: email.queueVerificationMail,
        queuePasswordChangedNotice: (user) =>
          email.queueNotice(user, (username) => ({
            kind: 'password_changed',
            username,
            at: clock.now(),
            how: 'changed',
          })),
      },
    }),
    mySessions: createMySessionOperations({ sessions, unitOfWork }),
    accountAdmin: createAccountAdministration({
      accounts,
      sessions,
      throttle,
      audit,
      unitOfWork,
      clock,
      argon2: settings.passwords.argon2,
      events: eventFeed,
    }),
    accountLifecycle: createAccountLifecycleOperations({
      accounts,
      sessions,
      throttle,
      stepUp,
      audit,
      usernames,
      unitOfWork,
      clock,
      pseudonymSecret: deriveSecret(masterKey, 'tessera deleted account pseudonyms'),
    }),
    presence: createPresenceOperations({
      sessionStore: stores.sessions,
      sessions,
      accounts,
      clock,
      idleTimeoutSeconds: settings.sessions.idleTimeoutSeconds,
    }),
    tokenAdmin: createTokenAdministration({
      keyRing,
      accessTokens,
      serviceClients,
      serviceClientStore: stores.serviceClients,
      unitOfWork,
      invalidationBus,
      events: eventFeed,
    }),
    oauth: createOAuthOperations({
      serviceClients,
      tokenIntrospection: createTokenIntrospection({
        accessTokens,
        refreshTokens,
        sessions,
        settings: { idleTimeoutSeconds: settings.sessions.idleTimeoutSeconds, clientId: settings.tokens.clientId },
      }),
      sessions,
      refusals,
      unitOfWork,
    }),
    auditTrail: createAuditTrailOperations({ audit, alerts, refusals, auditStore: stores.audit, clock }),
    secondFactor: createSecondFactorOperations({
      store: stores.secondFactors,
      passkeyStore: stores.passkeys,
      accounts,
      sessions,
      throttle,
      stepUp,
      protector,
      audit,
      refusals,
      unitOfWork,
      clock,
      settings: settings.secondFactor,
    }),
    mfaSignIn: createSecondFactorSignIn({
      store: stores.secondFactors,
      checks: proofChecks,
      passkeys,
      accounts,
      sessions,
      accessTokens,
      throttle,
      audit,
      refusals,
      unitOfWork,
      clock,
      onRecoveryCodeUsed,
    }),
    passkeys: createPasskeyOperations({
      passkeys,
      store: stores.passkeys,
      accounts,
      sessions,
      accessTokens,
      stepUp,
      audit,
      refusals,
      unitOfWork,
      clock,
    }),
    email,
    gameData: createGameDataOperations({
      sessions,
      accountStore: stores.accounts,
      sessionDataStore: stores.sessionData,
      playerDataStore: stores.playerData,
      settings: settings.gameData,
    }),
    tickets: createTicketOperations({ store: stores.tickets, sessions, clock }),
    devices,
    requestLimits: { admitRequest: throttle.admitRequest },
    eventStream: { follow: eventFeed.follow },
    health: {
      checkReadiness: () => stores.checkHealth(),
      countActiveSessions: () => sessions.countActiveSessions(),
    },
    maintenance: {
      // A sweep still running when its next turn comes is not started a second time.
      sweeps: [
        { name: 'expired-session', run: singleFlight(() => sessions.deleteExpiredSessions()) },
        { name: 'expired-throttle', run: singleFlight(() => throttle.deleteExpiredThrottles()) },
        { name: 'retired-key', run: singleFlight(() => keyRing.deleteRetiredKeys()) },
        { name: 'refusal-summary', run: singleFlight(() => refusals.flushRefusals()) },
        {
          name: 'expired-mfa-challenge',
          run: singleFlight(() => stores.secondFactors.deleteExpiredMfaChallenges(clock.now())),
        },
        {
          name: 'expired-webauthn-challenge',
          run: singleFlight(() => stores.passkeys.deleteExpiredWebAuthnChallenges(clock.now())),
        },
        { name: 'expired-email-token', run: singleFlight(() => stores.emails.deleteExpiredEmailTokens(clock.now())) },
        { name: 'expired-ticket', run: singleFlight(() => stores.tickets.deleteExpiredTickets(clock.now())) },
        { name: 'unused-guest', run: singleFlight(() => devices.pruneUnusedGuests()) },
      ],
      async reloadSigningKeys() {
        await keyRing.loadKeys()
        accessTokens.forgetRetiredKeys()
      },
      scheduler,
      runDueJobs: () => scheduler.runDueJobs(),
      runReview: (at) => review.runReview(at),
      alertDelivery,
    },
  }
}

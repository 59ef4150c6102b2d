import type { AccountStore } from './accounts/store.ts'
import type { AlertStore } from './alerts/store.ts'
import type { AuditStore } from './audit/store.ts'
import type { SchedulerLockStore } from './scheduler/store.ts'
import type { RevokedSessionStore, SessionStore } from './sessions/store.ts'
import type { SigningKeyStore } from './tokens/store.ts'
import type { ThrottleStore } from './throttle/store.ts'
import type { ServiceClientStore } from './clients/store.ts'
import type { RefreshTokenStore } from './tokens/store.ts'
import type { SecondFactorStore } from './second-factor/store.ts'
import type { PasskeyStore } from './passkeys/store.ts'
import type { DocumentStore } from './documents/store.ts'
import type { TicketStore } from './tickets/store.ts'
import type { DeviceStore } from './devices/store.ts'

/**
 * The stores of the durable backend (SQLite or PostgreSQL): what a unit of work changes, in one
 * transaction, together with the audit events that record the change.
 */
export interface DurableStores {
  accounts: AccountStore
  revokedSessions: RevokedSessionStore
  signingKeys: SigningKeyStore
  serviceClients: ServiceClientStore
  audit: AuditStore
  alerts: AlertStore
  secondFactors: SecondFactorStore
  passkeys: PasskeyStore
  /** Each user's data (player data), deleted with the account. */
  playerData: DocumentStore
  /** Devices that sign in with a secret, and the guest accounts they made. */
  devices: DeviceStore
}

/** Every store the core needs; the hot ones may live in Redis, beside the durable backend. */
export interface StoreSet extends DurableStores {
  sessions: SessionStore
  refreshTokens: RefreshTokenStore
  throttles: ThrottleStore
  schedulerLocks: SchedulerLockStore
  /** Each session's data, kept beside the sessions and ended with them. */
  sessionData: DocumentStore
  /** One-time tickets, beside the sessions they are bound to. */
  tickets: TicketStore
}

export interface Stores extends StoreSet {
  /**
   * Runs `work` in one transaction of the durable backend, with the stores bound to it: committed
   * when `work` resolves, rolled back when it throws. Only those stores take part; the hot stores
   * (which may be in Redis) never do, so a change that spans both orders its steps explicitly.
   * `work` calls stores only (no hashing, no network), since it holds the transaction.
   */
  runUnitOfWork<T>(work: (tx: DurableStores) => Promise<T>): Promise<T>
  /** Fails when a backend cannot answer (used by /readyz). */
  checkHealth(): Promise<void>
  close(): Promise<void>
}

/**
 * The stores of one backend, as the storage layer opens them: its unit of work binds every store
 * it holds (the contract suites check each of them inside one).
 */
export interface BackendStores extends Omit<Stores, 'runUnitOfWork'> {
  runUnitOfWork<T>(work: (tx: StoreSet) => Promise<T>): Promise<T>
}

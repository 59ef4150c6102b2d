import type { AccountStore } from './accounts/store.ts'
import type { AlertStore } from './alerts/store.ts'
import type { AuditStore } from './audit/store.ts'
import type { SchedulerLockStore } from './scheduler/store.ts'
import type { SessionStore } from './sessions/store.ts'
import type { SigningKeyStore } from './tokens/store.ts'
import type { ThrottleStore } from './throttle/store.ts'
import type { ServiceClientStore } from './clients/store.ts'
import type { RefreshTokenStore } from './tokens/store.ts'

/** Every store the core needs; each backend fills the ones it holds. */
export interface Stores {
  accounts: AccountStore
  sessions: SessionStore
  signingKeys: SigningKeyStore
  audit: AuditStore
  alerts: AlertStore
  schedulerLocks: SchedulerLockStore
  throttles: ThrottleStore
  refreshTokens: RefreshTokenStore
  serviceClients: ServiceClientStore
  /** Fails when the backend cannot answer (used by /readyz). */
  checkHealth(): Promise<void>
  close(): Promise<void>
}

/** Every store contract a durable backend (SQLite, PostgreSQL) must pass, in one call. */
import { testAccountStore } from './accounts.ts'
import { testAlertStore } from './alerts.ts'
import { testAuditStore } from './audit.ts'
import type { OpenStores } from './records.ts'
import { testRefreshTokenStore } from './refresh-tokens.ts'
import { testRevokedSessionStore } from './revoked-sessions.ts'
import { testSchedulerLockStore } from './scheduler-leases.ts'
import { testServiceClientStore } from './service-clients.ts'
import { testSessionStore } from './sessions.ts'
import { testSigningKeyStore } from './signing-keys.ts'
import { testThrottleStore } from './throttles.ts'
import { testSecondFactorStore } from './second-factors.ts'
import { testPasskeyStore } from './passkeys.ts'
import { testAccountLifecycleStores } from './account-lifecycle.ts'

/**
 * `isInsideUnitOfWork`: the stores are bound to one open unit of work (see `insideUnitOfWork`),
 * so the cases about units of work themselves do not apply.
 */
export function testDurableBackendStores(openStores: OpenStores, options: { isInsideUnitOfWork: boolean }): void {
  testAccountStore(openStores)
  testRevokedSessionStore(openStores)
  testSessionStore(openStores)
  testSigningKeyStore(openStores)
  testAuditStore(openStores, { hasTransactions: !options.isInsideUnitOfWork })
  testAlertStore(openStores)
  testSchedulerLockStore(openStores)
  testThrottleStore(openStores)
  testRefreshTokenStore(openStores)
  testServiceClientStore(openStores)
  testSecondFactorStore(openStores)
  testPasskeyStore(openStores)
  testAccountLifecycleStores(openStores)
}

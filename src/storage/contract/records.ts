/**
 * Record builders and store opening shared by the contract suites. Every record is complete and
 * valid by default; a test overrides only the fields its behaviour is about.
 */
import { randomUUID } from 'node:crypto'
import type { TestContext } from 'node:test'
import type { AccountStore, UserRecord } from '../../core/accounts/store.ts'
import type { AlertRecord } from '../../core/alerts/store.ts'
import type { AuditEventRecord } from '../../core/audit/events.ts'
import type { ServiceClientRecord } from '../../core/clients/store.ts'
import type { SessionRecord } from '../../core/sessions/store.ts'
import type { BackendStores } from '../../core/stores.ts'
import type { SigningKeyRecord } from '../../core/tokens/store.ts'

export type OpenStores = () => Promise<BackendStores>

/** A fixed instant with whole milliseconds, which every backend can hold exactly. */
export const contractEpoch = new Date('2030-01-01T00:00:00.000Z')

export function secondsAfterEpoch(seconds: number): Date {
  return new Date(contractEpoch.getTime() + seconds * 1000)
}

/** Opens a fresh set of stores for one test and closes them when the test ends. */
export async function openStoresForTest(t: TestContext, openStores: OpenStores): Promise<BackendStores> {
  const stores = await openStores()
  t.after(() => stores.close())
  return stores
}

/**
 * The same stores, each bound to one unit of work that stays open for the whole test and commits
 * when the test closes them: every contract must hold inside a transaction as it does outside,
 * since the core calls any durable store from within one. A unit of work started by the test
 * itself joins the open one.
 */
export function insideUnitOfWork(openStores: OpenStores): OpenStores {
  return async () => {
    const outer = await openStores()
    let finish = () => {}
    const finished = new Promise<void>((resolve) => (finish = resolve))
    let bound: ((tx: Parameters<Parameters<BackendStores['runUnitOfWork']>[0]>[0]) => void) | null = null
    const ready = new Promise<Parameters<Parameters<BackendStores['runUnitOfWork']>[0]>[0]>(
      (resolve) => (bound = resolve),
    )
    const unitOfWork = outer.runUnitOfWork(async (tx) => {
      bound?.(tx)
      await finished
    })
    const tx = await Promise.race([
      ready,
      unitOfWork.then(() => Promise.reject(new Error('the unit of work ended early'))),
    ])
    return {
      ...tx,
      runUnitOfWork: (work) => work(tx),
      // The outer stores wait for this transaction (SQLite has one connection): nothing to check.
      async checkHealth() {},
      async close() {
        finish()
        await unitOfWork
        await outer.close()
      },
    }
  }
}

export function buildUserRecord(overrides: Partial<UserRecord> = {}): UserRecord {
  const usernameKey = overrides.usernameKey ?? `user-${randomUUID()}`
  return {
    id: randomUUID(),
    username: usernameKey,
    usernameKey,
    usernameSkeleton: `skeleton-of-${usernameKey}`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY',
    roles: ['user'],
    disabledAt: null,
    sessionEpoch: 0,
    isPasswordChangeRequired: false,
    createdAt: contractEpoch,
    updatedAt: contractEpoch,
    ...overrides,
  }
}

/** Inserts a user (sessions refer to one) and returns it. */
export async function insertTestUser(accounts: AccountStore, overrides: Partial<UserRecord> = {}): Promise<UserRecord> {
  const user = buildUserRecord(overrides)
  const outcome = await accounts.insertUser(user)
  if (outcome !== 'inserted') throw new Error(`could not insert test user ${user.usernameKey}`)
  return user
}

export function buildSessionRecord(overrides: Partial<SessionRecord> & { userId: string }): SessionRecord {
  return {
    id: randomUUID(),
    tokenHash: `token-hash-${randomUUID()}`,
    userEpoch: 0,
    transport: 'cookie',
    createdAt: contractEpoch,
    lastSeenAt: contractEpoch,
    absoluteExpiresAt: secondsAfterEpoch(86_400),
    ip: '192.0.2.10',
    userAgent: 'contract-suite/1.0',
    authenticatedAt: contractEpoch,
    amr: ['pwd'],
    ...overrides,
  }
}

/** A token-transport session (its refresh tokens live in the RefreshTokenStore). */
export function buildTokenSessionRecord(overrides: Partial<SessionRecord> & { userId: string }): SessionRecord {
  return buildSessionRecord({ tokenHash: null, transport: 'token', ...overrides })
}

export function buildSigningKeyRecord(overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  const kid = overrides.kid ?? randomUUID()
  return {
    kid,
    algorithm: 'EdDSA',
    publicJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'public-part', kid, alg: 'EdDSA', use: 'sig' }),
    privateJwkCiphertext: `v1.iv.sealed-${kid}.tag`,
    createdAt: contractEpoch,
    activatesAt: contractEpoch,
    retiresAt: null,
    ...overrides,
  }
}

export function buildAuditEventRecord(overrides: Partial<AuditEventRecord> = {}): AuditEventRecord {
  return {
    id: randomUUID(),
    occurredAt: contractEpoch,
    type: 'login_failed',
    outcome: 'failure',
    reason: 'bad_password',
    actorUserId: null,
    subjectUserId: randomUUID(),
    username: 'alice',
    ip: '192.0.2.10',
    userAgent: 'contract-suite/1.0',
    sessionId: null,
    requestId: randomUUID(),
    nodeId: 'node-a',
    details: {},
    ...overrides,
  }
}

export function buildAlertRecord(overrides: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id: randomUUID(),
    rule: 'brute_force',
    severity: 'high',
    dedupeKey: 'brute_force:account:alice',
    summary: '12 failed sign-ins on account "alice"',
    evidence: {
      counts: { failures: 12 },
      ips: ['192.0.2.10'],
      usernames: ['alice'],
      userIds: [],
      sessionIds: [],
      eventIds: [randomUUID()],
      firstSeenAt: contractEpoch,
      lastSeenAt: secondsAfterEpoch(60),
    },
    windowStartsAt: contractEpoch,
    windowEndsAt: secondsAfterEpoch(900),
    raisedAt: secondsAfterEpoch(900),
    deliveryState: 'not_configured',
    deliveryAttempts: 0,
    nextDeliveryAt: null,
    deliveredAt: null,
    ...overrides,
  }
}

export function buildServiceClientRecord(overrides: Partial<ServiceClientRecord> = {}): ServiceClientRecord {
  const id = overrides.id ?? randomUUID()
  return {
    id,
    name: `client-${id}`,
    secretHash: `secret-hash-${id}`,
    createdAt: contractEpoch,
    ...overrides,
  }
}

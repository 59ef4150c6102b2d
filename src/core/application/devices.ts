/**
 * Guest devices and linking. `POST /v1/auth/device` signs in with a device: the first call for a
 * device id nobody has linked creates a guest account (no username, no password, role `guest`)
 * and hands the device its secret, once; later calls need that secret. A guest adds a username
 * and password later and stays the same user, with its data and sessions; a signed-in user
 * links more devices, lists and unlinks them. Guests whose devices stay silent for
 * `guestRetentionSeconds` are deleted by the housekeeping.
 *
 * A device secret is 256 random bits kept as a SHA-256 and compared in constant time: no
 * password hashing, so a device sign-in costs a few store round-trips. Wrong secrets are
 * throttled per network (the `device` request limit, at the HTTP edge); creating a guest counts
 * as a registration of the network.
 */
import { undoAfterFailure } from '../undo-after-failure.ts'
import { recordSessionsEndedByLimit } from './session-limit.ts'
import { defaultRoles, type Accounts } from '../accounts/accounts.ts'
import type { UserRecord } from '../accounts/store.ts'
import type { Audit } from '../audit/audit.ts'
import { describeSessionStart } from '../auth/sign-in-events.ts'
import type { Clock } from '../clock.ts'
import { guestUsernameKeyPrefix, isGuest, type DeviceRecord, type DeviceStore } from '../devices/store.ts'
import { TesseraError } from '../errors.ts'
import { createOfflineContext, type RequestContext } from '../request-context.ts'
import { createRandomToken, hashToken, secretsEqual } from '../secrets.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { SessionTransport } from '../sessions/store.ts'
import type { RequestThrottle } from '../throttle/request-throttle.ts'
import type { AccessTokens } from '../tokens/access-tokens.ts'
import type { UnitOfWork } from '../unit-of-work.ts'
import type { ClientContext, Principal, SignIn } from './sign-in.ts'
import { randomUUID } from 'node:crypto'

export type { DeviceRecord } from '../devices/store.ts'

const deviceSecretBytes = 32
const guestRole = 'guest'
const pruneBatchSize = 500
const deviceTouchIntervalMs = 3600_000
/** How the session was authenticated (RFC 8176 `swk`: possession of a software-held secret). */
const deviceMethods = ['swk']

export interface DeviceSignIn extends SignIn {
  device: DeviceRecord
  /** The new device's secret, shown this once; null when the device already existed. */
  deviceSecret: string | null
}

export interface LinkedDevice {
  device: DeviceRecord
  /** Shown this once. */
  deviceSecret: string
}

export interface DeviceOperations {
  /**
   * Signs in with a device (creating a guest for an unknown device id sent without a secret).
   * Throws `invalid_credentials` for a wrong or missing secret, an unlinked device's secret, or
   * a disabled account, alike.
   */
  signInWithDevice(
    input: { deviceId: string; deviceSecret: string | null; transport: SessionTransport } & ClientContext,
  ): Promise<DeviceSignIn>
  /** Links a new device to the caller's account; `device_taken` when the id is linked already. */
  linkDevice(principal: Principal, deviceId: string, context: RequestContext): Promise<LinkedDevice>
  listMyDevices(userId: string): Promise<DeviceRecord[]>
  /**
   * Unlinks one of the caller's devices: its secret is refused from then on, and the sessions it
   * signed in end (`device_unlinked`). False when the caller has no such device.
   */
  unlinkDevice(principal: Principal, id: string, context: RequestContext): Promise<boolean>
  /**
   * Gives a guest a username and password (the same checks as registration); it keeps its id,
   * data, devices and sessions, and its `guest` role becomes `user`. Throws `forbidden` for an
   * account that is no guest, `username_taken`, `invalid_username` or `password_*`.
   */
  addCredentials(
    principal: Principal,
    input: { username: string; password: string },
    context: RequestContext,
  ): Promise<UserRecord>
  /** Deletes guests whose devices have been silent for the retention time; returns how many. */
  pruneUnusedGuests(): Promise<number>
}

export function createDeviceOperations(deps: {
  store: DeviceStore
  accounts: Accounts
  sessions: Sessions
  accessTokens: AccessTokens
  audit: Audit
  unitOfWork: UnitOfWork
  requestLimits: RequestThrottle
  clock: Clock
  settings: { guestRetentionSeconds: number }
}): DeviceOperations {
  const { store, accounts, sessions, accessTokens, audit, unitOfWork, requestLimits, clock, settings } = deps
  const refused = () =>
    new TesseraError('invalid_credentials', 'The device is not known, or its secret is not correct.')

  function buildDevice(deviceId: string, userId: string, secret: string, now: Date): DeviceRecord {
    return { id: randomUUID(), deviceId, userId, secretHash: hashToken(secret), createdAt: now, lastUsedAt: now }
  }

  function buildGuest(now: Date): UserRecord {
    const id = randomUUID()
    return {
      id,
      username: '',
      usernameKey: `${guestUsernameKeyPrefix}${id}`,
      usernameSkeleton: null,
      // No password can match an empty hash: a guest has no password until it sets one.
      passwordHash: '',
      roles: [guestRole],
      disabledAt: null,
      sessionEpoch: 0,
      isPasswordChangeRequired: false,
      createdAt: now,
      updatedAt: now,
    }
  }

  /** A session for `user` started by `device`, recorded like any sign-in. */
  async function openSession(
    user: UserRecord,
    device: DeviceRecord,
    deviceSecret: string | null,
    transport: SessionTransport,
    client: ClientContext,
  ) {
    const authentication = { authenticatedAt: clock.now(), amr: deviceMethods }
    const started = await sessions.startSession({
      user,
      transport,
      ip: client.ip,
      userAgent: client.userAgent,
      authentication,
      deviceId: device.id,
    })
    // Unlinking a device ends its sessions (unlinkDevice). A sign-in that raced the unlink looks
    // again once its session is stored: either it finds the device gone and is refused, or its
    // session was stored before the unlink looked for the device's sessions, and is ended there.
    if ((await store.findDeviceByDeviceId(device.deviceId))?.id !== device.id) {
      await sessions.discardSession(started.session).catch(() => {})
      throw refused()
    }
    try {
      const event = describeSessionStart(user, started.session, client)
      await audit.record({ ...event, details: { ...event.details, method: 'device', device: device.id } })
    } catch (error) {
      await undoAfterFailure(error, () => sessions.discardSession(started.session).catch(() => {}))
      throw error
    }
    await recordSessionsEndedByLimit({ sessions, unitOfWork }, started, client)
    let tokens: SignIn['tokens'] = null
    if (started.refreshToken !== null) {
      const issued = await accessTokens.issueAccessToken({
        userId: user.id,
        sessionId: started.session.id,
        roles: user.roles,
        authentication: started.session,
      })
      tokens = {
        accessToken: issued.accessToken,
        expiresInSeconds: issued.expiresInSeconds,
        refreshToken: started.refreshToken,
      }
    }
    return { user, session: started.session, sessionToken: started.sessionToken, tokens, device, deviceSecret }
  }

  async function createGuest(
    deviceId: string,
    client: ClientContext,
  ): Promise<{ user: UserRecord; device: DeviceRecord; secret: string }> {
    // A new account per call: counted as a registration of the network.
    await requestLimits.admitRequest('registration', client.ip)
    const now = clock.now()
    const user = buildGuest(now)
    const secret = createRandomToken(deviceSecretBytes)
    const device = buildDevice(deviceId, user.id, secret, now)
    await unitOfWork.run(async (change) => {
      if ((await change.stores.accounts.insertUser(user)) !== 'inserted')
        throw new TypeError('a random guest key collided')
      // A simultaneous first call for the same device id linked it first: this one made nothing.
      if ((await change.stores.devices.insertDevice(device)) === 'device_taken') throw refused()
      change.record({
        type: 'user_registered',
        outcome: 'success',
        actorUserId: user.id,
        subjectUserId: user.id,
        username: user.usernameKey,
        details: { roles: guestRole, method: 'device', device: device.id },
        context: client,
      })
    })
    return { user, device, secret }
  }

  async function recordFailure(device: DeviceRecord | null, client: ClientContext): Promise<void> {
    await audit.record({
      type: 'login_failed',
      outcome: 'failure',
      reason: device === null ? 'unknown_user' : 'bad_device_secret',
      ...(device === null ? {} : { subjectUserId: device.userId }),
      details: { method: 'device', ...(device === null ? {} : { device: device.id }) },
      context: client,
    })
  }

  return {
    async signInWithDevice({ deviceId, deviceSecret, transport, ip, userAgent, requestId }) {
      const client = { ip, userAgent, requestId }
      const device = await store.findDeviceByDeviceId(deviceId)
      if (device === null) {
        // A secret for a device nobody holds (unlinked, or made up) is refused, never a new guest.
        if (deviceSecret !== null) {
          await recordFailure(null, client)
          throw refused()
        }
        const created = await createGuest(deviceId, client)
        return openSession(created.user, created.device, created.secret, transport, client)
      }
      const isSecretRight = deviceSecret !== null && secretsEqual(hashToken(deviceSecret), device.secretHash)
      const user = isSecretRight ? await accounts.findUser(device.userId) : null
      if (!user || user.disabledAt !== null) {
        await recordFailure(device, client)
        throw refused()
      }
      // Last use matters to the pruning of guests, counted in days: one write an hour is enough,
      // and a sign-in saves a write.
      const now = clock.now()
      if (now.getTime() - device.lastUsedAt.getTime() >= deviceTouchIntervalMs) await store.touchDevice(device.id, now)
      return openSession(user, device, null, transport, client)
    },

    async linkDevice(principal, deviceId, context) {
      const secret = createRandomToken(deviceSecretBytes)
      const device = buildDevice(deviceId, principal.user.id, secret, clock.now())
      await unitOfWork.run(async (change) => {
        if ((await change.stores.devices.insertDevice(device)) === 'device_taken') {
          throw new TesseraError('device_taken', 'This device is linked to an account already; unlink it there first.')
        }
        change.record({
          type: 'device_linked',
          outcome: 'success',
          actorUserId: principal.user.id,
          subjectUserId: principal.user.id,
          sessionId: principal.session.id,
          details: { device: device.id },
          context,
        })
      })
      return { device, deviceSecret: secret }
    },

    listMyDevices: (userId) => store.listUserDevices(userId),

    async unlinkDevice(principal, id, context) {
      const userId = principal.user.id
      const openedBy = async () =>
        (await sessions.listLiveSessions(userId)).filter((session) => session.deviceId === id)
      const ending = await openedBy()
      const isUnlinked = await unitOfWork.run(async (change) => {
        if (!(await change.stores.devices.deleteUserDevice(userId, id))) return false
        await sessions.endSessionsIn(change, ending, 'device_unlinked')
        change.record({
          type: 'device_unlinked',
          outcome: 'success',
          actorUserId: userId,
          subjectUserId: userId,
          sessionId: principal.session.id,
          details: { device: id, sessions: ending.length },
          context,
        })
        return true
      })
      if (!isUnlinked) return false
      // A sign-in with the device that stored its session after the first look and found the
      // device still there (see openSession) is ended now; one that looks later is refused.
      const known = new Set(ending.map((session) => session.id))
      const late = (await openedBy()).filter((session) => !known.has(session.id))
      if (late.length > 0) await unitOfWork.run((change) => sessions.endSessionsIn(change, late, 'device_unlinked'))
      return true
    },

    async addCredentials(principal, { username, password }, context) {
      if (!isGuest(principal.user)) throw new TesseraError('forbidden', 'This account has a username already.')
      const prepared = await accounts.prepareUser({ username, password })
      const roles = [...new Set([...principal.user.roles.filter((role) => role !== guestRole), ...defaultRoles])].sort()
      const credentials = {
        username: prepared.username,
        usernameKey: prepared.usernameKey,
        usernameSkeleton: prepared.usernameSkeleton ?? prepared.usernameKey,
        passwordHash: prepared.passwordHash,
      }
      const now = clock.now()
      const outcome = await unitOfWork.run(async (change) => {
        const set = await change.stores.devices.setGuestCredentials(principal.user.id, credentials, roles, now)
        if (set === 'set') {
          change.record({
            type: 'guest_credentials_set',
            outcome: 'success',
            actorUserId: principal.user.id,
            subjectUserId: principal.user.id,
            username: prepared.usernameKey,
            sessionId: principal.session.id,
            details: { roles: roles.join(',') },
            context,
          })
        }
        return set
      })
      if (outcome === 'username_taken') throw new TesseraError('username_taken', 'This username is already taken.')
      if (outcome === 'not_guest') throw new TesseraError('forbidden', 'This account has a username already.')
      // Roles changed: cached copies of the user's sessions must see them at once, on every node.
      await sessions.announceUserChanged(principal.user.id)
      return { ...principal.user, ...credentials, roles, updatedAt: now }
    },

    async pruneUnusedGuests() {
      const cutoff = new Date(clock.now().getTime() - settings.guestRetentionSeconds * 1000)
      let pruned = 0
      for (;;) {
        const ids = await unitOfWork.run(async (change) => {
          const deleted = await change.stores.devices.deleteUnusedGuests(cutoff, pruneBatchSize)
          for (const id of deleted) {
            change.record({
              type: 'user_deleted',
              outcome: 'success',
              reason: 'unused_guest',
              subjectUserId: id,
              context: createOfflineContext('scheduler'),
            })
          }
          return deleted
        })
        for (const id of ids) await sessions.announceUserChanged(id)
        pruned += ids.length
        if (ids.length < pruneBatchSize) return pruned
      }
    },
  }
}

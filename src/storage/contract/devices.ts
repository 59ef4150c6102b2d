/**
 * The DeviceStore contract: every durable backend must pass it. Device ids are unique, a device
 * is unlinked only by its owner, a guest gets credentials once (atomically, never over another
 * user's name), and the pruning deletes only silent guests, with what is theirs.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { guestUsernameKeyPrefix, type DeviceRecord } from '../../core/devices/store.ts'
import {
  buildUserRecord,
  contractEpoch,
  insertTestUser,
  openStoresForTest,
  secondsAfterEpoch,
  type OpenStores,
} from './records.ts'

function buildDevice(overrides: Partial<DeviceRecord> & { userId: string }): DeviceRecord {
  return {
    id: randomUUID(),
    deviceId: `device-${randomUUID()}`,
    secretHash: `secret-hash-${randomUUID()}`,
    createdAt: contractEpoch,
    lastUsedAt: contractEpoch,
    ...overrides,
  }
}

function buildGuest(createdAt = contractEpoch) {
  const id = randomUUID()
  return buildUserRecord({
    id,
    username: '',
    usernameKey: `${guestUsernameKeyPrefix}${id}`,
    usernameSkeleton: null,
    passwordHash: '',
    roles: ['guest'],
    createdAt,
    updatedAt: createdAt,
  })
}

function credentialsFor(name: string) {
  return {
    username: name,
    usernameKey: name,
    usernameSkeleton: `skeleton-of-${name}`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
  }
}

export function testDeviceStore(openStores: OpenStores): void {
  describe('DeviceStore', () => {
    it('insertDevice() stores a device that findDeviceByDeviceId() and listUserDevices() return', async (t) => {
      const stores = await openStoresForTest(t, openStores)
      const user = await insertTestUser(stores.accounts)
      const older = buildDevice({ userId: user.id })
      const newer = buildDevice({ userId: user.id, createdAt: secondsAfterEpoch(5), lastUsedAt: secondsAfterEpoch(5) })
      assert.equal(await stores.devices.insertDevice(newer), 'inserted')
      assert.equal(await stores.devices.insertDevice(older), 'inserted')
      assert.deepEqual(await stores.devices.findDeviceByDeviceId(older.deviceId), older)
      assert.deepEqual(await stores.devices.listUserDevices(user.id), [older, newer])
      assert.equal(await stores.devices.findDeviceByDeviceId('no-such-device'), null)
    })

    it('insertDevice() answers device_taken for a device id that is linked already', async (t) => {
      const stores = await openStoresForTest(t, openStores)
      const [first, second] = [await insertTestUser(stores.accounts), await insertTestUser(stores.accounts)]
      const device = buildDevice({ userId: first.id })
      await stores.devices.insertDevice(device)
      assert.equal(
        await stores.devices.insertDevice(buildDevice({ userId: second.id, deviceId: device.deviceId })),
        'device_taken',
      )
      assert.equal((await stores.devices.findDeviceByDeviceId(device.deviceId))?.userId, first.id)
    })

    it('deleteUserDevice() deletes only a device of that user', async (t) => {
      const stores = await openStoresForTest(t, openStores)
      const [owner, other] = [await insertTestUser(stores.accounts), await insertTestUser(stores.accounts)]
      const device = buildDevice({ userId: owner.id })
      await stores.devices.insertDevice(device)
      assert.equal(await stores.devices.deleteUserDevice(other.id, device.id), false)
      assert.equal(await stores.devices.deleteUserDevice(owner.id, device.id), true)
      assert.equal(await stores.devices.findDeviceByDeviceId(device.deviceId), null)
      assert.equal(await stores.devices.deleteUserDevice(owner.id, device.id), false)
    })

    it('touchDevice() moves lastUsedAt forward only', async (t) => {
      const stores = await openStoresForTest(t, openStores)
      const user = await insertTestUser(stores.accounts)
      const device = buildDevice({ userId: user.id, lastUsedAt: secondsAfterEpoch(10) })
      await stores.devices.insertDevice(device)
      await stores.devices.touchDevice(device.id, secondsAfterEpoch(5))
      assert.deepEqual((await stores.devices.findDeviceByDeviceId(device.deviceId))?.lastUsedAt, secondsAfterEpoch(10))
      await stores.devices.touchDevice(device.id, secondsAfterEpoch(20))
      assert.deepEqual((await stores.devices.findDeviceByDeviceId(device.deviceId))?.lastUsedAt, secondsAfterEpoch(20))
    })

    it('setGuestCredentials() names a guest once, with its new roles, and never over another name', async (t) => {
      const stores = await openStoresForTest(t, openStores)
      const guest = buildGuest()
      await stores.accounts.insertUser(guest)
      const member = await insertTestUser(stores.accounts)
      assert.equal(
        await stores.devices.setGuestCredentials(
          guest.id,
          credentialsFor(member.usernameKey),
          ['user'],
          secondsAfterEpoch(1),
        ),
        'username_taken',
      )
      assert.deepEqual((await stores.accounts.findUserById(guest.id))?.roles, ['guest'])
      assert.equal(
        await stores.devices.setGuestCredentials(guest.id, credentialsFor('new-name'), ['user'], secondsAfterEpoch(1)),
        'set',
      )
      const named = await stores.accounts.findUserById(guest.id)
      assert.equal(named?.usernameKey, 'new-name')
      assert.deepEqual(named?.roles, ['user'])
      assert.equal(
        await stores.devices.setGuestCredentials(
          guest.id,
          credentialsFor('other-name'),
          ['user'],
          secondsAfterEpoch(2),
        ),
        'not_guest',
      )
      assert.equal(
        await stores.devices.setGuestCredentials(
          member.id,
          credentialsFor('third-name'),
          ['user'],
          secondsAfterEpoch(2),
        ),
        'not_guest',
      )
    })

    it('of 20 simultaneous setGuestCredentials() for one guest exactly one is set', async (t) => {
      const stores = await openStoresForTest(t, openStores)
      const guest = buildGuest()
      await stores.accounts.insertUser(guest)
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          stores.devices.setGuestCredentials(guest.id, credentialsFor(`name-${index}`), ['user'], secondsAfterEpoch(1)),
        ),
      )
      assert.equal(outcomes.filter((outcome) => outcome === 'set').length, 1, outcomes.join(','))
    })

    it('deleteUnusedGuests() deletes guests created and silent before the cutoff, with their devices and data', async (t) => {
      const stores = await openStoresForTest(t, openStores)
      const silent = buildGuest()
      const recentDevice = buildGuest()
      const young = buildGuest(secondsAfterEpoch(200))
      for (const guest of [silent, recentDevice, young]) await stores.accounts.insertUser(guest)
      const member = await insertTestUser(stores.accounts)
      await stores.devices.insertDevice(buildDevice({ userId: silent.id, lastUsedAt: secondsAfterEpoch(50) }))
      await stores.devices.insertDevice(buildDevice({ userId: recentDevice.id, lastUsedAt: secondsAfterEpoch(150) }))
      await stores.playerData.writeDocument(silent.id, '{"a":1}', 0)

      assert.deepEqual(await stores.devices.deleteUnusedGuests(secondsAfterEpoch(100), 500), [silent.id])
      assert.equal(await stores.accounts.findUserById(silent.id), null)
      assert.deepEqual(await stores.devices.listUserDevices(silent.id), [])
      assert.equal(await stores.playerData.readDocument(silent.id), null)
      for (const kept of [recentDevice, young, member]) assert.ok(await stores.accounts.findUserById(kept.id), kept.id)
    })

    it('deleteUnusedGuests() stops at the limit', async (t) => {
      const stores = await openStoresForTest(t, openStores)
      for (let index = 0; index < 5; index += 1) await stores.accounts.insertUser(buildGuest())
      assert.equal((await stores.devices.deleteUnusedGuests(secondsAfterEpoch(1), 3)).length, 3)
      assert.equal((await stores.devices.deleteUnusedGuests(secondsAfterEpoch(1), 3)).length, 2)
    })
  })
}

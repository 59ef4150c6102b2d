/**
 * Devices that sign in on their own (a game on a phone, before its player has an account): each
 * has an identifier the client chose and a secret Tessera gave it, kept as a SHA-256. The first
 * sign-in of an unknown device creates a guest account for it; a guest later gets a username and
 * password and stays the same user.
 *
 * A guest's username key starts with `guestUsernameKeyPrefix`, which no username can (a name
 * starts with a letter or digit): no password sign-in finds a guest, and no new name collides
 * with one.
 */
import type { UserRecord } from '../accounts/store.ts'

export const guestUsernameKeyPrefix = '#guest:'

export function isGuest(user: Pick<UserRecord, 'usernameKey'>): boolean {
  return user.usernameKey.startsWith(guestUsernameKeyPrefix)
}

export interface DeviceRecord {
  /** Public handle (listed, used to unlink); never a credential. */
  id: string
  /** The identifier the client chose for itself; unique. */
  deviceId: string
  userId: string
  /** SHA-256 of the device secret. */
  secretHash: string
  createdAt: Date
  lastUsedAt: Date
}

export interface GuestCredentials {
  username: string
  usernameKey: string
  usernameSkeleton: string
  passwordHash: string
}

export interface DeviceStore {
  /** Inserts a device; `device_taken` when its device id is another device's. */
  insertDevice(device: DeviceRecord): Promise<'inserted' | 'device_taken'>
  /** The device with this client-chosen id, or null. */
  findDeviceByDeviceId(deviceId: string): Promise<DeviceRecord | null>
  /** The user's devices, oldest first. */
  listUserDevices(userId: string): Promise<DeviceRecord[]>
  /** Deletes the device only if it belongs to `userId`; false otherwise. */
  deleteUserDevice(userId: string, id: string): Promise<boolean>
  /** Moves `lastUsedAt` forward (never backward). */
  touchDevice(id: string, lastUsedAt: Date): Promise<void>
  /**
   * Gives a guest its username and password and replaces its `guest` role by `roles`, in one
   * atomic step: `not_guest` when the user is no guest (any more), `username_taken` when the key
   * or skeleton is another user's.
   */
  setGuestCredentials(
    userId: string,
    credentials: GuestCredentials,
    roles: readonly string[],
    updatedAt: Date,
  ): Promise<'set' | 'not_guest' | 'username_taken'>
  /**
   * Deletes guests created before `cutoff` with no device used since (and everything that is
   * theirs, by the foreign keys); at most `limit`; returns their ids.
   */
  deleteUnusedGuests(cutoff: Date, limit: number): Promise<string[]>
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  buildSessionRecord,
  buildSigningKeyRecord,
  contractEpoch,
  insertTestUser,
  secondsAfterEpoch,
} from '../../src/storage/contract/records.ts'
import { CopyConflictError, copyStores } from '../../src/storage/copy-stores.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'

function openPair() {
  return { source: openSqliteStores(':memory:', contractEpoch), target: openSqliteStores(':memory:', contractEpoch) }
}

describe('copyStores()', () => {
  it('copies users with their roles, usable signing keys and live sessions, and nothing twice', async (t) => {
    const { source, target } = openPair()
    t.after(async () => {
      await source.close()
      await target.close()
    })
    const alice = await insertTestUser(source.accounts, { usernameKey: 'alice', roles: ['admin', 'user'] })
    await insertTestUser(source.accounts, { usernameKey: 'bob' })
    const key = buildSigningKeyRecord()
    await source.signingKeys.insertSigningKey(key)
    await source.signingKeys.insertSigningKey(buildSigningKeyRecord({ retiresAt: secondsAfterEpoch(-1) }))
    const live = buildSessionRecord({ userId: alice.id })
    await source.sessions.insertSession(live)
    await source.sessions.insertSession(buildSessionRecord({ userId: alice.id, absoluteExpiresAt: contractEpoch }))

    const report = await copyStores(source, target, { now: contractEpoch, includeSessions: true })
    assert.deepEqual(report, {
      users: { copied: 2, alreadyPresent: 0 },
      sessions: { copied: 1, alreadyPresent: 0 },
      signingKeys: { copied: 1, alreadyPresent: 0 },
    })
    assert.deepEqual(await target.accounts.findUserById(alice.id), alice)
    assert.deepEqual(await target.sessions.findSessionById(live.id), live)
    assert.deepEqual(await target.signingKeys.listUsableSigningKeys(contractEpoch), [key])

    const again = await copyStores(source, target, { now: contractEpoch, includeSessions: true })
    assert.deepEqual(again, {
      users: { copied: 0, alreadyPresent: 2 },
      sessions: { copied: 0, alreadyPresent: 1 },
      signingKeys: { copied: 0, alreadyPresent: 1 },
    })
  })

  it("copies a user's second factor: the sealed TOTP secret, the unused recovery codes and the passkeys", async (t) => {
    const { source, target } = openPair()
    t.after(async () => {
      await source.close()
      await target.close()
    })
    const user = await insertTestUser(source.accounts)
    const totp = {
      id: 'totp-1',
      userId: user.id,
      secretCiphertext: 'v1.sealed',
      algorithm: 'SHA1' as const,
      digits: 6,
      periodSeconds: 30,
      lastUsedStep: null,
      createdAt: contractEpoch,
      confirmedAt: null,
    }
    await source.secondFactors.savePendingTotp(totp)
    await source.secondFactors.confirmTotp(user.id, 'totp-1', 42, secondsAfterEpoch(1))
    await source.secondFactors.replaceRecoveryCodes(user.id, ['h1', 'h2'], secondsAfterEpoch(1))
    await source.secondFactors.consumeRecoveryCode(user.id, 'h1', secondsAfterEpoch(2))
    const passkey = {
      id: 'cred-1',
      userId: user.id,
      publicKey: Uint8Array.from([1, 2, 3]),
      counter: 7,
      transports: ['usb'],
      isBackupEligible: false,
      name: 'Key',
      createdAt: contractEpoch,
      lastUsedAt: null,
    }
    await source.passkeys.insertPasskey(passkey)
    await copyStores(source, target, { now: contractEpoch, includeSessions: false })
    await copyStores(source, target, { now: contractEpoch, includeSessions: false })
    assert.deepEqual(await target.secondFactors.findTotp(user.id), {
      ...totp,
      lastUsedStep: 42,
      confirmedAt: secondsAfterEpoch(1),
    })
    assert.deepEqual(await target.secondFactors.listRecoveryCodeHashes(user.id), ['h2'])
    assert.deepEqual(await target.passkeys.listUserPasskeys(user.id), [passkey])
  })

  it("copies a user's email address with its verification", async (t) => {
    const { source, target } = openPair()
    t.after(async () => {
      await source.close()
      await target.close()
    })
    const user = await insertTestUser(source.accounts)
    const email = {
      userId: user.id,
      address: 'Ann@example.com',
      addressKey: 'ann@example.com',
      verifiedAt: secondsAfterEpoch(3),
      language: 'ko' as const,
      updatedAt: secondsAfterEpoch(1),
    }
    assert.equal(await source.emails.setEmail(email), 'set')
    await copyStores(source, target, { now: contractEpoch, includeSessions: false })
    await copyStores(source, target, { now: contractEpoch, includeSessions: false })
    assert.deepEqual(await target.emails.findEmail(user.id), email)
  })

  it('copies player data and session data with their versions, and linked devices', async (t) => {
    const { source, target } = openPair()
    t.after(async () => {
      await source.close()
      await target.close()
    })
    const user = await insertTestUser(source.accounts)
    const session = buildSessionRecord({ userId: user.id })
    await source.sessions.insertSession(session)
    await source.playerData.writeDocument(user.id, '{"level":1}', 0)
    await source.playerData.writeDocument(user.id, '{"level":2}', 1)
    await source.sessionData.writeDocument(session.id, '{"cart":[]}', 0)
    const device = {
      id: 'device-handle',
      deviceId: 'phone-0001',
      userId: user.id,
      secretHash: 'hash',
      createdAt: contractEpoch,
      lastUsedAt: contractEpoch,
    }
    await source.devices.insertDevice(device)
    await copyStores(source, target, { now: contractEpoch, includeSessions: true })
    await copyStores(source, target, { now: contractEpoch, includeSessions: true })
    assert.deepEqual(await target.playerData.readDocument(user.id), { json: '{"level":2}', version: 2 })
    assert.deepEqual(await target.sessionData.readDocument(session.id), { json: '{"cart":[]}', version: 1 })
    assert.deepEqual(await target.devices.listUserDevices(user.id), [device])
  })

  it('leaves sessions behind when asked to', async (t) => {
    const { source, target } = openPair()
    t.after(async () => {
      await source.close()
      await target.close()
    })
    const user = await insertTestUser(source.accounts)
    await source.sessions.insertSession(buildSessionRecord({ userId: user.id }))
    const report = await copyStores(source, target, { now: contractEpoch, includeSessions: false })
    assert.deepEqual(report.sessions, { copied: 0, alreadyPresent: 0 })
    assert.deepEqual(await target.sessions.listUserSessions(user.id), [])
  })

  it('stops rather than merge when the target holds a different user under the same name', async (t) => {
    const { source, target } = openPair()
    t.after(async () => {
      await source.close()
      await target.close()
    })
    await insertTestUser(source.accounts, { usernameKey: 'alice' })
    await insertTestUser(target.accounts, { usernameKey: 'alice' })
    await assert.rejects(copyStores(source, target, { now: contractEpoch, includeSessions: true }), CopyConflictError)
  })

  it('pages through more users than one page holds', async (t) => {
    const { source, target } = openPair()
    t.after(async () => {
      await source.close()
      await target.close()
    })
    for (let index = 0; index < 1203; index += 1)
      await insertTestUser(source.accounts, { usernameKey: `user${String(index).padStart(4, '0')}` })
    const report = await copyStores(source, target, { now: contractEpoch, includeSessions: false })
    assert.equal(report.users.copied, 1203)
    assert.equal((await target.accounts.listUsers({ afterUsernameKey: null, limit: 2000 })).length, 1203)
  })
})

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { createAccessTokens } from './access-tokens.ts'
import { createKeyProtector } from './key-protection.ts'
import {
  createKeyRing,
  type KeyRing,
  type KeyRingSettings,
  type RotateKeysOptions,
  type SigningKeyView,
} from './signing-keys.ts'
import type { SigningKeyStore } from './store.ts'

const settings: KeyRingSettings = {
  signingAlgorithm: 'EdDSA',
  keyActivationDelaySeconds: 600,
  accessTokenTtlSeconds: 300,
  leewaySeconds: 5,
}
const subject = { userId: 'user-1', sessionId: 'session-1', roles: ['user'] }

async function setUp(t: TestContext, overrides: Partial<KeyRingSettings> = {}) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const protector = createKeyProtector(randomBytes(32))
  const createRing = () =>
    createKeyRing({ store: stores.signingKeys, clock, protector, settings: { ...settings, ...overrides } })
  const created = createRing()
  await created.loadKeys()
  return { clock, stores, keyRing: withRotation(created, stores.signingKeys), createRing }
}

/** The key ring with rotation done as the operation does it: prepare, store, reload. */
function withRotation(keyRing: KeyRing, store: SigningKeyStore) {
  return Object.assign(keyRing, {
    async rotateKeys(options?: RotateKeysOptions): Promise<SigningKeyView> {
      const rotation = await keyRing.prepareRotation(options)
      await keyRing.storeRotation(store, rotation)
      await keyRing.loadKeys()
      const view = keyRing.describeKey(rotation.record.kid)
      assert.ok(view)
      return view
    },
  })
}

const kidsOf = (keyRing: { publicJwks(): { keys: Array<{ kid: string }> } }) =>
  keyRing.publicJwks().keys.map((key) => key.kid)

describe('key ring', () => {
  it('loadKeys() creates one active key on an empty store, and none on the next load', async (t) => {
    const { stores, keyRing, createRing } = await setUp(t)
    assert.equal(keyRing.listKeys().length, 1)
    assert.equal(keyRing.listKeys()[0]?.state, 'active')
    await keyRing.loadKeys()
    await createRing().loadKeys()
    assert.equal((await stores.signingKeys.listUsableSigningKeys(new Date(8.64e15))).length, 1)
  })

  it('publishes only public key members', async (t) => {
    const { keyRing } = await setUp(t)
    await keyRing.rotateKeys({ algorithm: 'ES256' })
    for (const key of keyRing.publicJwks().keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(member in key, false, member)
      assert.equal(key.use, 'sig')
    }
    assert.deepEqual(
      keyRing.publicJwks().keys.map((key) => [key.kty, key.alg]),
      [
        ['OKP', 'EdDSA'],
        ['EC', 'ES256'],
      ],
    )
  })

  it('rotateKeys() publishes the new key at once but keeps signing with the old one until the activation delay', async (t) => {
    const { clock, keyRing } = await setUp(t)
    const old = keyRing.currentSigningKey()
    const added = await keyRing.rotateKeys()
    assert.equal(added.state, 'pending')
    assert.deepEqual(added.activatesAt, new Date(clock.now().getTime() + 600_000))
    assert.deepEqual(kidsOf(keyRing), [old.kid, added.kid])
    assert.notEqual(keyRing.findVerificationKey(added.kid), null)
    clock.advanceSeconds(599.999)
    assert.equal(keyRing.currentSigningKey().kid, old.kid)
    clock.advanceSeconds(0.001)
    assert.equal(keyRing.currentSigningKey().kid, added.kid)
    assert.deepEqual(
      keyRing.listKeys().map((key) => [key.kid, key.state]),
      [
        [old.kid, 'retiring'],
        [added.kid, 'active'],
      ],
    )
  })

  it('retires the replaced key once every token it signed has expired, not a moment before', async (t) => {
    const { clock, keyRing } = await setUp(t)
    const old = keyRing.currentSigningKey()
    const added = await keyRing.rotateKeys()
    const retiresAt = new Date(added.activatesAt.getTime() + (300 + 5) * 1000)
    assert.deepEqual(keyRing.listKeys()[0]?.retiresAt, retiresAt)
    clock.set(new Date(retiresAt.getTime() - 1))
    assert.notEqual(keyRing.findVerificationKey(old.kid), null)
    assert.deepEqual(kidsOf(keyRing), [old.kid, added.kid])
    clock.set(retiresAt)
    assert.equal(keyRing.findVerificationKey(old.kid), null)
    assert.deepEqual(kidsOf(keyRing), [added.kid])
    assert.deepEqual(
      keyRing.listKeys().map((key) => key.kid),
      [added.kid],
    )
  })

  it('rotateKeys() twice in a row: each key signs in turn and retires after its own last token', async (t) => {
    const { clock, keyRing } = await setUp(t)
    const first = keyRing.currentSigningKey()
    const second = await keyRing.rotateKeys()
    clock.advanceSeconds(60)
    const third = await keyRing.rotateKeys()
    assert.deepEqual(
      keyRing.listKeys().map((key) => key.state),
      ['active', 'pending', 'pending'],
    )
    clock.set(second.activatesAt)
    assert.equal(keyRing.currentSigningKey().kid, second.kid)
    clock.set(third.activatesAt)
    assert.equal(keyRing.currentSigningKey().kid, third.kid)
    const [firstView, secondView] = keyRing.listKeys()
    assert.deepEqual(firstView?.retiresAt, new Date(second.activatesAt.getTime() + 305_000))
    assert.deepEqual(secondView?.retiresAt, new Date(third.activatesAt.getTime() + 305_000))
    assert.equal(firstView?.kid, first.kid)
  })

  it('with no activation delay the new key signs at once', async (t) => {
    const { keyRing } = await setUp(t, { keyActivationDelaySeconds: 0 })
    const added = await keyRing.rotateKeys()
    assert.equal(added.state, 'active')
    assert.equal(keyRing.currentSigningKey().kid, added.kid)
  })

  it('rotateKeys() makes a key of the requested algorithm that signs with it', async (t) => {
    const { clock, keyRing } = await setUp(t)
    const added = await keyRing.rotateKeys({ algorithm: 'ES256' })
    clock.set(added.activatesAt)
    assert.equal(keyRing.currentSigningKey().algorithm, 'ES256')
    assert.equal(keyRing.findVerificationKey(added.kid)?.algorithm, 'ES256')
  })

  it('an RS256 key is 2048-bit RSA, publishes only n and e, and its tokens verify until another algorithm is forced', async (t) => {
    const { clock, keyRing } = await setUp(t, { signingAlgorithm: 'RS256', keyActivationDelaySeconds: 0 })
    const accessTokens = createAccessTokens({
      keyRing,
      clock,
      settings: {
        issuer: 'https://auth.example',
        audience: 'https://api.example',
        clientId: 'tessera',
        accessTokenTtlSeconds: 300,
        leewaySeconds: 5,
      },
    })
    const [published] = keyRing.publicJwks().keys
    assert.equal(published?.kty, 'RSA')
    assert.equal(published?.alg, 'RS256')
    assert.equal(Buffer.from(published?.n ?? '', 'base64url').length * 8, 2048)
    assert.equal(published?.e, 'AQAB')
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(member in (published ?? {}), false, member)
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    const [header = '', payload = '', signature = ''] = accessToken.split('.')
    assert.equal(JSON.parse(Buffer.from(header, 'base64url').toString()).alg, 'RS256')
    assert.equal((await accessTokens.verifyAccessToken(accessToken))?.sub, subject.userId)
    // The same signature under a header naming another algorithm is refused: the key fixes it.
    const relabelled = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), alg: 'PS256' }),
    ).toString('base64url')
    assert.equal(await accessTokens.verifyAccessToken(`${relabelled}.${payload}.${signature}`), null)
  })

  it('another key ring on the same store sees a rotation only after loadKeys()', async (t) => {
    const { keyRing, createRing } = await setUp(t)
    const server = createRing()
    await server.loadKeys()
    const added = await keyRing.rotateKeys()
    assert.equal(server.findVerificationKey(added.kid), null)
    assert.equal(kidsOf(server).length, 1)
    await server.loadKeys()
    assert.notEqual(server.findVerificationKey(added.kid), null)
    assert.deepEqual(kidsOf(server), kidsOf(keyRing))
  })

  it('findVerificationKey() misses for unknown and prototype-named kids', async (t) => {
    const { keyRing } = await setUp(t)
    for (const kid of ['unknown', '__proto__', 'constructor', 'toString', '../../etc/passwd', "' OR 1=1 --"]) {
      assert.equal(keyRing.findVerificationKey(kid), null, kid)
    }
  })

  it('tokens signed by a retired key stop verifying, even when already verified once', async (t) => {
    const { clock, keyRing } = await setUp(t, { accessTokenTtlSeconds: 900 })
    const accessTokens = createAccessTokens({
      keyRing,
      clock,
      settings: {
        issuer: 'https://auth.example',
        audience: 'https://api.example',
        clientId: 'tessera',
        accessTokenTtlSeconds: 900,
        leewaySeconds: 5,
      },
    })
    const added = await keyRing.rotateKeys()
    clock.set(new Date(added.activatesAt.getTime() - 1000))
    const { accessToken } = await accessTokens.issueAccessToken(subject)
    clock.set(added.activatesAt)
    assert.notEqual(await accessTokens.verifyAccessToken(accessToken), null)
    assert.equal(accessTokens.forgetRetiredKeys(), 0)
    // The old key retires 905 s after the activation; the token (issued 1 s before it) ends 4 s earlier.
    clock.set(new Date(added.activatesAt.getTime() + 905_000))
    assert.equal(accessTokens.forgetRetiredKeys(), 1)
    assert.equal(await accessTokens.verifyAccessToken(accessToken), null)
  })

  it('rotateKeys({ emergency }) signs with the new key at once and retires every other key at once', async (t) => {
    const { clock, keyRing, createRing } = await setUp(t, { accessTokenTtlSeconds: 900 })
    const accessTokens = createAccessTokens({
      keyRing,
      clock,
      settings: {
        issuer: 'https://auth.example',
        audience: 'https://api.example',
        clientId: 'tessera',
        accessTokenTtlSeconds: 900,
        leewaySeconds: 5,
      },
    })
    const leaked = keyRing.currentSigningKey().kid
    const pending = await keyRing.rotateKeys()
    const { accessToken: beforeEmergency } = await accessTokens.issueAccessToken(subject)
    assert.notEqual(await accessTokens.verifyAccessToken(beforeEmergency), null)
    clock.advanceSeconds(1)
    const replacement = await keyRing.rotateKeys({ emergency: true, algorithm: 'ES256' })
    assert.equal(replacement.state, 'active')
    assert.equal(replacement.algorithm, 'ES256')
    assert.deepEqual(replacement.activatesAt, clock.now())
    assert.equal(keyRing.currentSigningKey().kid, replacement.kid)
    assert.deepEqual(kidsOf(keyRing), [replacement.kid])
    assert.equal(keyRing.findVerificationKey(leaked), null)
    assert.equal(keyRing.findVerificationKey(pending.kid), null)
    // Already verified once, and still refused: the cache asks the key ring on every hit.
    assert.equal(await accessTokens.verifyAccessToken(beforeEmergency), null)
    const { accessToken: afterEmergency } = await accessTokens.issueAccessToken(subject)
    assert.notEqual(await accessTokens.verifyAccessToken(afterEmergency), null)
    // Another node sees the same after its reload.
    const otherNode = createRing()
    await otherNode.loadKeys()
    assert.deepEqual(kidsOf(otherNode), [replacement.kid])
  })

  it('deleteRetiredKeys() removes retired keys from the store, private parts included, and nothing in service', async (t) => {
    const { clock, stores, keyRing } = await setUp(t)
    const first = keyRing.currentSigningKey().kid
    const added = await keyRing.rotateKeys()
    assert.equal(await keyRing.deleteRetiredKeys(), 0)
    clock.set(new Date(added.activatesAt.getTime() + 305_000))
    assert.deepEqual(kidsOf(keyRing), [added.kid])
    assert.equal(await keyRing.deleteRetiredKeys(), 1)
    const left = await stores.signingKeys.listUsableSigningKeys(new Date(0))
    assert.deepEqual(
      left.map((key) => key.kid),
      [added.kid],
    )
    assert.equal(
      left.some((key) => key.kid === first),
      false,
    )
    assert.equal(keyRing.currentSigningKey().kid, added.kid)
  })
})

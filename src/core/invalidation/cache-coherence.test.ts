/**
 * Two cores over one store and one bus behave as two nodes: what one changes, the other stops
 * serving from memory at once, however long its copies would otherwise live.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { createApplication } from '../application/application.ts'
import { createKeyProtector } from '../tokens/key-protection.ts'
import { createSigningKeyRecord } from '../tokens/signing-keys.ts'
import {
  createLocalInvalidationBus,
  parseInvalidation,
  type InvalidationBus,
  type InvalidationListener,
} from './bus.ts'
import { buildTestApplicationSettings } from '../../../test/helpers/core-settings.ts'

// Copies would live a minute: only the bus can make a change visible sooner.
const settings = buildTestApplicationSettings({ TESSERA_SESSION_CACHE_TTL: '60s', TESSERA_KEY_ACTIVATION_DELAY: '0s' })
const password = 'correct horse battery staple'
const client = { ip: '192.0.2.9', userAgent: 'coherence-test', requestId: null }

/** A local bus whose connection the test can cut, as a Redis outage would. */
function createSwitchableBus(): InvalidationBus & { setConnected(isConnected: boolean): Promise<void> } {
  const inner = createLocalInvalidationBus()
  const listeners = new Set<InvalidationListener>()
  let isConnected = true
  return {
    async publish(message) {
      if (isConnected) await inner.publish(message)
    },
    subscribe(listener) {
      listeners.add(listener)
      const unsubscribe = inner.subscribe(listener)
      return () => {
        listeners.delete(listener)
        unsubscribe()
      }
    },
    isConnected: () => isConnected,
    async setConnected(next) {
      isConnected = next
      for (const listener of listeners) await listener.onReset()
    },
  }
}

async function startTwoNodes(t: TestContext, bus: InvalidationBus = createLocalInvalidationBus()) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const masterKey = randomBytes(32)
  const first = await createApplication({ stores, clock, settings, masterKey, invalidationBus: bus })
  const second = await createApplication({ stores, clock, settings, masterKey, invalidationBus: bus })
  const user = await first.signIn.register({ username: `user${randomBytes(4).toString('hex')}`, password }, client)
  return { clock, stores, first, second, user, masterKey }
}

describe('cache coherence across nodes', () => {
  it('a logout on one node is refused on the other at once', async (t) => {
    const { first, second, user } = await startTwoNodes(t)
    const signIn = await first.signIn.signIn({ username: user.username, password, transport: 'cookie', ...client })
    const token = signIn.sessionToken ?? ''
    assert.ok(await second.signIn.resolveSessionToken(token), 'the second node serves the session')
    await first.signIn.signOut({ user, session: signIn.session }, client)
    assert.equal(await second.signIn.resolveSessionToken(token), null)
  })

  it('ending every other session on one node ends them on the other at once', async (t) => {
    const { first, second, user } = await startTwoNodes(t)
    const kept = await first.signIn.signIn({ username: user.username, password, transport: 'token', ...client })
    const ended = await first.signIn.signIn({ username: user.username, password, transport: 'token', ...client })
    const endedToken = ended.tokens?.accessToken ?? ''
    assert.ok(await second.signIn.resolveAccessToken(endedToken))
    await first.mySessions.endMySessions({ userId: user.id, sessionId: kept.session.id }, false, client)
    assert.equal(await second.signIn.resolveAccessToken(endedToken), null)
    assert.ok(await second.signIn.resolveAccessToken(kept.tokens?.accessToken ?? ''))
  })

  it('a role change on one node shows on the other at once', async (t) => {
    const { first, second, user } = await startTwoNodes(t)
    const signIn = await first.signIn.signIn({ username: user.username, password, transport: 'token', ...client })
    const accessToken = signIn.tokens?.accessToken ?? ''
    assert.deepEqual((await second.signIn.resolveAccessToken(accessToken))?.user.roles, ['user'])
    await first.accountAdmin.replaceUserRoles(user.id, ['admin', 'user'], { actorUserId: null, context: client })
    assert.deepEqual((await second.signIn.resolveAccessToken(accessToken))?.user.roles, ['admin', 'user'])
  })

  it('without a shared bus the other node serves its copy until it expires (the bus is what makes it prompt)', async (t) => {
    const clock = createManualClock()
    const stores = openSqliteStores(':memory:', clock.now())
    t.after(() => stores.close())
    const masterKey = randomBytes(32)
    const first = await createApplication({ stores, clock, settings, masterKey })
    const second = await createApplication({ stores, clock, settings, masterKey })
    const user = await first.signIn.register({ username: 'lonely', password }, client)
    const signIn = await first.signIn.signIn({ username: 'lonely', password, transport: 'cookie', ...client })
    const token = signIn.sessionToken ?? ''
    assert.ok(await second.signIn.resolveSessionToken(token))
    await first.signIn.signOut({ user, session: signIn.session }, client)
    assert.ok(await second.signIn.resolveSessionToken(token), 'stale copy still served')
    clock.advanceSeconds(60)
    assert.equal(await second.signIn.resolveSessionToken(token), null)
  })

  it('while the bus is disconnected a node checks every session in the store', async (t) => {
    const bus = createSwitchableBus()
    const { stores, second, first, user } = await startTwoNodes(t, bus)
    const signIn = await first.signIn.signIn({ username: user.username, password, transport: 'cookie', ...client })
    const token = signIn.sessionToken ?? ''
    assert.ok(await second.signIn.resolveSessionToken(token))
    await bus.setConnected(false)
    // Deleted behind the nodes' backs, as when the message about it was lost.
    await stores.sessions.deleteSession(signIn.session.id)
    assert.equal(await second.signIn.resolveSessionToken(token), null)
  })

  it('a reconnected bus drops every copy, since messages may have been lost meanwhile', async (t) => {
    const bus = createSwitchableBus()
    const { stores, second, first, user } = await startTwoNodes(t, bus)
    const signIn = await first.signIn.signIn({ username: user.username, password, transport: 'cookie', ...client })
    const token = signIn.sessionToken ?? ''
    assert.ok(await second.signIn.resolveSessionToken(token))
    await stores.sessions.deleteSession(signIn.session.id)
    assert.ok(await second.signIn.resolveSessionToken(token), 'the copy hides a lost message')
    await bus.setConnected(true)
    assert.equal(await second.signIn.resolveSessionToken(token), null)
  })

  it('a signing-keys message makes the other node load keys added to the store', async (t) => {
    const bus = createLocalInvalidationBus()
    const { clock, stores, second, masterKey } = await startTwoNodes(t, bus)
    assert.equal(second.tokenAdmin.publicJwks().keys.length, 1)
    clock.advanceSeconds(1)
    const added = await createSigningKeyRecord('EdDSA', createKeyProtector(masterKey), clock.now())
    await stores.signingKeys.insertSigningKey(added)
    assert.equal(second.tokenAdmin.publicJwks().keys.length, 1, 'nothing reloads without the message')
    await bus.publish({ kind: 'signing-keys' })
    assert.deepEqual(
      second.tokenAdmin
        .publicJwks()
        .keys.map((key) => key.kid)
        .at(-1),
      added.kid,
    )
    assert.equal(second.tokenAdmin.listSigningKeys().find((key) => key.state === 'active')?.kid, added.kid)
  })

  it("a copy read while another node's logout lands is used once but not kept", async (t) => {
    const clock = createManualClock()
    const stores = openSqliteStores(':memory:', clock.now())
    t.after(() => stores.close())
    const bus = createLocalInvalidationBus()
    const masterKey = randomBytes(32)
    let holdRead: Promise<void> | null = null
    // The second node's stores answer (the session is alive), then the reply is held in flight
    // until the test lets go.
    const slowRevocations = {
      ...stores.revokedSessions,
      async findRevokedSessions(sessionIds: readonly string[]) {
        const found = await stores.revokedSessions.findRevokedSessions(sessionIds)
        if (holdRead) await holdRead
        return found
      },
    }
    const first = await createApplication({ stores, clock, settings, masterKey, invalidationBus: bus })
    const second = await createApplication({
      stores: { ...stores, revokedSessions: slowRevocations },
      clock,
      settings,
      masterKey,
      invalidationBus: bus,
    })
    const user = await first.signIn.register({ username: 'racer', password }, client)
    const signIn = await first.signIn.signIn({ username: 'racer', password, transport: 'cookie', ...client })
    const token = signIn.sessionToken ?? ''
    let release = () => {}
    holdRead = new Promise((resolve) => (release = resolve))
    const inFlight = second.signIn.resolveSessionToken(token)
    await new Promise((resolve) => setImmediate(resolve))
    await first.signIn.signOut({ user, session: signIn.session }, client)
    holdRead = null
    release()
    assert.ok(await inFlight, 'the answer read before the logout is given')
    assert.equal(await second.signIn.resolveSessionToken(token), null, 'but it was not kept')
  })

  it('parseInvalidation() reads the three kinds and refuses anything else', () => {
    assert.deepEqual(parseInvalidation('{"kind":"session","sessionId":"s1"}'), { kind: 'session', sessionId: 's1' })
    assert.deepEqual(parseInvalidation('{"kind":"user","userId":"u1","extra":1}'), { kind: 'user', userId: 'u1' })
    assert.deepEqual(parseInvalidation('{"kind":"signing-keys"}'), { kind: 'signing-keys' })
    for (const text of [
      '',
      'null',
      '[]',
      '{"kind":"session"}',
      '{"kind":"user","userId":7}',
      '{"kind":"other"}',
      '{',
    ]) {
      assert.equal(parseInvalidation(text), null, text)
    }
  })
})

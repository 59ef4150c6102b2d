/**
 * The DocumentStore contract, for session data (kept beside the sessions and ended with them) and
 * player data (kept with the user): every backend must pass it. A write is a compare-and-set on
 * the version, decided in one atomic step: of simultaneous writers of one version exactly one
 * wins, whatever the backend.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { DocumentStore } from '../../core/documents/store.ts'
import type { Stores } from '../../core/stores.ts'
import {
  buildSessionRecord,
  buildTokenSessionRecord,
  insertTestUser,
  openStoresForTest,
  secondsAfterEpoch,
  type OpenStores,
} from './records.ts'

type Owned = { stores: Stores; store: DocumentStore; ownerId: string }

function testVersionedWrites(
  kind: string,
  openOwned: (t: TestContext) => Promise<Owned>,
  missingOwnerId: string,
): void {
  it(`${kind}: readDocument() is null until the first write`, async (t) => {
    const { store, ownerId } = await openOwned(t)
    assert.equal(await store.readDocument(ownerId), null)
  })

  it(`${kind}: the first write is version 1, each next one moves the version by one`, async (t) => {
    const { store, ownerId } = await openOwned(t)
    assert.deepEqual(await store.writeDocument(ownerId, '{"level":1}', 0), { outcome: 'written', version: 1 })
    assert.deepEqual(await store.readDocument(ownerId), { json: '{"level":1}', version: 1 })
    assert.deepEqual(await store.writeDocument(ownerId, '{"level":2}', 1), { outcome: 'written', version: 2 })
    assert.deepEqual(await store.readDocument(ownerId), { json: '{"level":2}', version: 2 })
  })

  it(`${kind}: writeDocument() with a version that is not the current one is stale and changes nothing`, async (t) => {
    const { store, ownerId } = await openOwned(t)
    await store.writeDocument(ownerId, '{"a":1}', 0)
    await store.writeDocument(ownerId, '{"a":2}', 1)
    for (const version of [0, 1, 3, 99]) {
      assert.deepEqual(
        await store.writeDocument(ownerId, '{"a":"lost"}', version),
        { outcome: 'stale' },
        `version ${version}`,
      )
    }
    assert.deepEqual(await store.readDocument(ownerId), { json: '{"a":2}', version: 2 })
  })

  it(`${kind}: writeDocument() for an owner that does not exist is missing and stores nothing`, async (t) => {
    const { store } = await openOwned(t)
    assert.deepEqual(await store.writeDocument(missingOwnerId, '{}', 0), { outcome: 'missing' })
    assert.deepEqual(await store.writeDocument(missingOwnerId, '{}', 1), { outcome: 'missing' })
    assert.equal(await store.readDocument(missingOwnerId), null)
  })

  it(`${kind}: of 50 simultaneous writes of one version exactly one wins`, async (t) => {
    const { store, ownerId } = await openOwned(t)
    await store.writeDocument(ownerId, '{"n":0}', 0)
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, index) => store.writeDocument(ownerId, JSON.stringify({ n: index + 1 }), 1)),
    )
    const written = outcomes.filter((outcome) => outcome.outcome === 'written')
    assert.equal(written.length, 1)
    assert.equal(outcomes.filter((outcome) => outcome.outcome === 'stale').length, 49)
    assert.deepEqual(written[0], { outcome: 'written', version: 2 })
    const first = await Promise.all(Array.from({ length: 20 }, () => store.writeDocument(ownerId, '{}', 0)))
    assert.ok(first.every((outcome) => outcome.outcome === 'stale'))
  })

  it(`${kind}: importDocument() keeps the version, and never overwrites a document or makes one without its owner`, async (t) => {
    const { store, ownerId } = await openOwned(t)
    assert.equal(await store.importDocument(ownerId, { json: '{"moved":true}', version: 7 }), true)
    assert.deepEqual(await store.readDocument(ownerId), { json: '{"moved":true}', version: 7 })
    assert.equal(await store.importDocument(ownerId, { json: '{"again":true}', version: 9 }), false)
    assert.deepEqual(await store.writeDocument(ownerId, '{"next":1}', 7), { outcome: 'written', version: 8 })
    assert.equal(await store.importDocument(missingOwnerId, { json: '{}', version: 1 }), false)
    assert.equal(await store.readDocument(missingOwnerId), null)
  })

  it(`${kind}: of 50 simultaneous first writes exactly one wins`, async (t) => {
    const { store, ownerId } = await openOwned(t)
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, index) => store.writeDocument(ownerId, `{"n":${index}}`, 0)),
    )
    assert.equal(outcomes.filter((outcome) => outcome.outcome === 'written').length, 1)
    assert.equal((await store.readDocument(ownerId))?.version, 1)
  })
}

export function testSessionDataStore(openStores: OpenStores): void {
  async function openOwned(t: TestContext): Promise<Owned> {
    const stores = await openStoresForTest(t, openStores)
    const user = await insertTestUser(stores.accounts)
    const session = buildTokenSessionRecord({ userId: user.id })
    await stores.sessions.insertSession(session)
    return { stores, store: stores.sessionData, ownerId: session.id }
  }

  describe('DocumentStore (session data)', () => {
    testVersionedWrites('session data', openOwned, 'no-such-session')

    it('session data ends with its session: deleteSession(), deleteUserSession(), deleteUserSessions() and the sweep', async (t) => {
      const { stores } = await openOwned(t)
      const user = await insertTestUser(stores.accounts)
      const sessions = Array.from({ length: 4 }, () => buildSessionRecord({ userId: user.id }))
      for (const session of sessions) {
        await stores.sessions.insertSession(session)
        assert.equal((await stores.sessionData.writeDocument(session.id, '{"cart":[1]}', 0)).outcome, 'written')
      }
      const [first, second, third, fourth] = sessions.map((session) => session.id) as [string, string, string, string]
      await stores.sessions.deleteSession(first)
      await stores.sessions.deleteUserSession(user.id, second)
      await stores.sessions.deleteUserSessions(user.id, fourth)
      for (const id of [first, second, third]) {
        assert.equal(await stores.sessionData.readDocument(id), null, id)
        assert.deepEqual(await stores.sessionData.writeDocument(id, '{}', 1), { outcome: 'missing' })
        assert.deepEqual(await stores.sessionData.writeDocument(id, '{}', 0), { outcome: 'missing' })
      }
      assert.equal((await stores.sessionData.readDocument(fourth))?.version, 1)
      await stores.sessions.deleteExpiredSessions(secondsAfterEpoch(1), secondsAfterEpoch(2))
      assert.equal(await stores.sessionData.readDocument(fourth), null)
    })

    it("a new session with data of its own does not see another session's", async (t) => {
      const { stores, ownerId } = await openOwned(t)
      await stores.sessionData.writeDocument(ownerId, '{"mine":true}', 0)
      const user = await insertTestUser(stores.accounts)
      const other = buildTokenSessionRecord({ userId: user.id })
      await stores.sessions.insertSession(other)
      assert.equal(await stores.sessionData.readDocument(other.id), null)
    })
  })
}

export function testPlayerDataStore(openStores: OpenStores): void {
  async function openOwned(t: TestContext): Promise<Owned> {
    const stores = await openStoresForTest(t, openStores)
    const user = await insertTestUser(stores.accounts)
    return { stores, store: stores.playerData, ownerId: user.id }
  }

  describe('DocumentStore (player data)', () => {
    testVersionedWrites('player data', openOwned, 'no-such-user')

    it("player data outlives the user's sessions", async (t) => {
      const { stores, ownerId } = await openOwned(t)
      const session = buildTokenSessionRecord({ userId: ownerId })
      await stores.sessions.insertSession(session)
      await stores.playerData.writeDocument(ownerId, '{"xp":10}', 0)
      await stores.sessions.deleteUserSessions(ownerId, null)
      assert.deepEqual(await stores.playerData.readDocument(ownerId), { json: '{"xp":10}', version: 1 })
    })
  })
}

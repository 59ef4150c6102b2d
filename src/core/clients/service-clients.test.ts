import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { TesseraError } from '../errors.ts'
import { hashToken } from '../secrets.ts'
import { createServiceClients } from './service-clients.ts'

function setUp(t: TestContext) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const serviceClients = createServiceClients({ store: stores.serviceClients, clock })
  /** Prepares a client and stores it, as the create operation does. */
  async function createClient(name: string) {
    const created = serviceClients.prepareServiceClient(name)
    assert.equal(await stores.serviceClients.insertServiceClient(created.client), 'inserted')
    return created
  }
  return { clock, stores, serviceClients, createClient }
}

const hasCode = (code: string) => (error: unknown) => error instanceof TesseraError && error.code === code

describe('service clients', () => {
  it('prepareServiceClient() gives a 256-bit secret once and a record holding only its SHA-256', async (t) => {
    const { stores, createClient, clock } = setUp(t)
    const { client, secret } = await createClient('game-server')
    assert.equal(Buffer.from(secret, 'base64url').length, 32)
    const stored = await stores.serviceClients.findServiceClientById(client.id)
    assert.equal(stored?.secretHash, hashToken(secret))
    assert.deepEqual(stored?.createdAt, clock.now())
    assert.equal(JSON.stringify(stored).includes(secret), false)
  })

  it('prepareServiceClient() gives every client its own id and secret', async (t) => {
    const { createClient } = setUp(t)
    const first = await createClient('first')
    const second = await createClient('second')
    assert.notEqual(first.client.id, second.client.id)
    assert.notEqual(first.secret, second.secret)
  })

  it('prepareServiceClient() refuses names that are empty, too long, upper-case or carry other characters', async (t) => {
    const { serviceClients } = setUp(t)
    for (const name of ['', 'Game', '-leading', 'a b', 'a:b', 'x'.repeat(65), 'ünïcode']) {
      assert.throws(() => serviceClients.prepareServiceClient(name), hasCode('validation_failed'), name)
    }
    serviceClients.prepareServiceClient('x'.repeat(64))
  })

  it('authenticateServiceClient() accepts the id with its secret', async (t) => {
    const { serviceClients, createClient } = setUp(t)
    const { client, secret } = await createClient('game-server')
    assert.deepEqual(await serviceClients.authenticateServiceClient(client.id, secret), client)
  })

  it("authenticateServiceClient() refuses a wrong secret, another client's secret, an unknown id and oversized input", async (t) => {
    const { serviceClients, createClient } = setUp(t)
    const { client, secret } = await createClient('game-server')
    const other = await createClient('chat')
    assert.equal(await serviceClients.authenticateServiceClient(client.id, `${secret}x`), null)
    assert.equal(await serviceClients.authenticateServiceClient(client.id, secret.slice(0, -1)), null)
    assert.equal(await serviceClients.authenticateServiceClient(client.id, other.secret), null)
    assert.equal(await serviceClients.authenticateServiceClient(client.id, hashToken(secret)), null)
    assert.equal(await serviceClients.authenticateServiceClient('unknown', secret), null)
    assert.equal(await serviceClients.authenticateServiceClient(client.name, secret), null)
    assert.equal(await serviceClients.authenticateServiceClient(client.id, 'x'.repeat(10_000)), null)
  })

  it('a deleted client no longer authenticates', async (t) => {
    const { serviceClients, createClient, stores } = setUp(t)
    const { client, secret } = await createClient('gone')
    assert.equal(await stores.serviceClients.deleteServiceClient(client.id), true)
    assert.equal(await serviceClients.authenticateServiceClient(client.id, secret), null)
  })
})

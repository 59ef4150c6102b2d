import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { openSqliteStores } from '../../storage/sqlite/open.ts'
import { createManualClock } from '../../../test/helpers/manual-clock.ts'
import { TesseraError } from '../errors.ts'
import { hashToken } from '../secrets.ts'
import type { TokenEvent } from '../tokens/token-events.ts'
import { createServiceClients } from './service-clients.ts'

function setUp(t: TestContext) {
  const clock = createManualClock()
  const stores = openSqliteStores(':memory:', clock.now())
  t.after(() => stores.close())
  const events: TokenEvent[] = []
  const serviceClients = createServiceClients({ store: stores.serviceClients, clock, recordTokenEvent: (event) => events.push(event) })
  return { clock, stores, serviceClients, events }
}

const hasCode = (code: string) => (error: unknown) => error instanceof TesseraError && error.code === code

describe('service clients', () => {
  it('createServiceClient() returns a 256-bit secret once and stores only its SHA-256', async (t) => {
    const { stores, serviceClients, events, clock } = setUp(t)
    const { client, secret } = await serviceClients.createServiceClient('game-server')
    assert.equal(Buffer.from(secret, 'base64url').length, 32)
    const stored = await stores.serviceClients.findServiceClientById(client.id)
    assert.equal(stored?.secretHash, hashToken(secret))
    assert.equal(JSON.stringify(stored).includes(secret), false)
    assert.deepEqual(events, [{ type: 'service_client_created', at: clock.now(), clientId: client.id, name: 'game-server' }])
  })

  it('createServiceClient() gives every client its own id and secret', async (t) => {
    const { serviceClients } = setUp(t)
    const first = await serviceClients.createServiceClient('first')
    const second = await serviceClients.createServiceClient('second')
    assert.notEqual(first.client.id, second.client.id)
    assert.notEqual(first.secret, second.secret)
  })

  it('createServiceClient() refuses names that are empty, too long, upper-case or carry other characters', async (t) => {
    const { serviceClients } = setUp(t)
    for (const name of ['', 'Game', '-leading', 'a b', 'a:b', 'x'.repeat(65), 'ünïcode']) {
      await assert.rejects(serviceClients.createServiceClient(name), hasCode('validation_failed'), name)
    }
    await serviceClients.createServiceClient('x'.repeat(64))
  })

  it('createServiceClient() refuses a taken name with client_name_taken', async (t) => {
    const { serviceClients } = setUp(t)
    await serviceClients.createServiceClient('game-server')
    await assert.rejects(serviceClients.createServiceClient('game-server'), hasCode('client_name_taken'))
    assert.equal((await serviceClients.listServiceClients()).length, 1)
  })

  it('authenticateServiceClient() accepts the id with its secret', async (t) => {
    const { serviceClients } = setUp(t)
    const { client, secret } = await serviceClients.createServiceClient('game-server')
    assert.deepEqual(await serviceClients.authenticateServiceClient(client.id, secret), client)
  })

  it('authenticateServiceClient() refuses a wrong secret, another client\'s secret, an unknown id and oversized input', async (t) => {
    const { serviceClients } = setUp(t)
    const { client, secret } = await serviceClients.createServiceClient('game-server')
    const other = await serviceClients.createServiceClient('chat')
    assert.equal(await serviceClients.authenticateServiceClient(client.id, `${secret}x`), null)
    assert.equal(await serviceClients.authenticateServiceClient(client.id, secret.slice(0, -1)), null)
    assert.equal(await serviceClients.authenticateServiceClient(client.id, other.secret), null)
    assert.equal(await serviceClients.authenticateServiceClient(client.id, hashToken(secret)), null)
    assert.equal(await serviceClients.authenticateServiceClient('unknown', secret), null)
    assert.equal(await serviceClients.authenticateServiceClient(client.name, secret), null)
    assert.equal(await serviceClients.authenticateServiceClient(client.id, 'x'.repeat(10_000)), null)
  })

  it('deleteServiceClient() by id or by name ends its authentication', async (t) => {
    const { serviceClients, events } = setUp(t)
    const byId = await serviceClients.createServiceClient('by-id')
    const byName = await serviceClients.createServiceClient('by-name')
    assert.equal((await serviceClients.deleteServiceClient(byId.client.id))?.name, 'by-id')
    assert.equal((await serviceClients.deleteServiceClient('by-name'))?.id, byName.client.id)
    assert.equal(await serviceClients.authenticateServiceClient(byId.client.id, byId.secret), null)
    assert.equal(await serviceClients.authenticateServiceClient(byName.client.id, byName.secret), null)
    assert.equal(await serviceClients.deleteServiceClient('by-id'), null)
    assert.deepEqual(events.map((event) => event.type), [
      'service_client_created',
      'service_client_created',
      'service_client_deleted',
      'service_client_deleted',
    ])
  })
})

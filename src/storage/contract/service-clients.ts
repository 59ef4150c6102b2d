/** The ServiceClientStore contract: every backend must pass it. Names are unique, as given. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildServiceClientRecord, openStoresForTest, secondsAfterEpoch, type OpenStores } from './records.ts'

export function testServiceClientStore(openStores: OpenStores): void {
  describe('ServiceClientStore', () => {
    it('insertServiceClient() stores a client that findServiceClientById() returns field for field', async (t) => {
      const { serviceClients } = await openStoresForTest(t, openStores)
      const client = buildServiceClientRecord({ name: 'game-server', createdAt: secondsAfterEpoch(7) })
      assert.equal(await serviceClients.insertServiceClient(client), 'inserted')
      assert.deepEqual(await serviceClients.findServiceClientById(client.id), client)
    })

    it('insertServiceClient() answers name_taken for a second client with the same name', async (t) => {
      const { serviceClients } = await openStoresForTest(t, openStores)
      const first = buildServiceClientRecord({ name: 'game-server' })
      const second = buildServiceClientRecord({ name: 'game-server' })
      assert.equal(await serviceClients.insertServiceClient(first), 'inserted')
      assert.equal(await serviceClients.insertServiceClient(second), 'name_taken')
      assert.equal(await serviceClients.findServiceClientById(second.id), null)
    })

    it('insertServiceClient() refuses a second client with the same id', async (t) => {
      const { serviceClients } = await openStoresForTest(t, openStores)
      const client = buildServiceClientRecord()
      await serviceClients.insertServiceClient(client)
      await assert.rejects(serviceClients.insertServiceClient({ ...client, name: 'another-name' }))
    })

    it('findServiceClientById() returns null for an unknown id or a name', async (t) => {
      const { serviceClients } = await openStoresForTest(t, openStores)
      const client = buildServiceClientRecord({ name: 'game-server' })
      await serviceClients.insertServiceClient(client)
      assert.equal(await serviceClients.findServiceClientById('no-such-client'), null)
      assert.equal(await serviceClients.findServiceClientById('game-server'), null)
    })

    it('findServiceClientByName() matches the name exactly', async (t) => {
      const { serviceClients } = await openStoresForTest(t, openStores)
      const client = buildServiceClientRecord({ name: 'game-server' })
      await serviceClients.insertServiceClient(client)
      assert.deepEqual(await serviceClients.findServiceClientByName('game-server'), client)
      assert.equal(await serviceClients.findServiceClientByName('game-serve'), null)
      assert.equal(await serviceClients.findServiceClientByName('game-server%'), null)
      assert.equal(await serviceClients.findServiceClientByName(client.id), null)
    })

    it('listServiceClients() returns every client by name', async (t) => {
      const { serviceClients } = await openStoresForTest(t, openStores)
      const clients = ['match-maker', 'chat', 'game-server'].map((name) => buildServiceClientRecord({ name }))
      for (const client of clients) await serviceClients.insertServiceClient(client)
      const listed = await serviceClients.listServiceClients()
      assert.deepEqual(
        listed.map((client) => client.name),
        ['chat', 'game-server', 'match-maker'],
      )
    })

    it('listServiceClients() returns an empty list when there are no clients', async (t) => {
      const { serviceClients } = await openStoresForTest(t, openStores)
      assert.deepEqual(await serviceClients.listServiceClients(), [])
    })

    it('deleteServiceClient() deletes the client once and leaves the others', async (t) => {
      const { serviceClients } = await openStoresForTest(t, openStores)
      const gone = buildServiceClientRecord()
      const kept = buildServiceClientRecord()
      await serviceClients.insertServiceClient(gone)
      await serviceClients.insertServiceClient(kept)
      assert.equal(await serviceClients.deleteServiceClient(gone.id), true)
      assert.equal(await serviceClients.findServiceClientById(gone.id), null)
      assert.equal(await serviceClients.deleteServiceClient(gone.id), false)
      assert.deepEqual(await serviceClients.listServiceClients(), [kept])
    })
  })
}

/**
 * `tessera/client` game methods against a real Tessera: a device signs in as a guest and again
 * with its secret, the guest adds credentials, devices are linked and unlinked, session and
 * player data are written with ETags (a stale one is refused), and a ticket is redeemed once.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createTesseraClient, TesseraError } from 'tessera/client'
import { startTestServer, strongPassword, uniqueUsername } from '../helpers/test-server.ts'
import { createIntrospectionClient } from '../helpers/token-lifecycle.ts'

describe('tessera/client game methods', () => {
  it('signs in a device as a guest, names it, links devices, keeps data with ETags and gets a ticket', async (t) => {
    const server = await startTestServer(t)
    const client = createTesseraClient({ baseUrl: server.url })
    t.after(() => client.close())
    const deviceId = `phone-${crypto.randomUUID()}`

    const guest = await client.signInWithDevice({ deviceId })
    assert.equal(guest.user.username, null)
    assert.deepEqual(guest.user.roles, ['guest'])
    assert.equal(guest.device.deviceId, deviceId)
    assert.ok(guest.deviceSecret)
    const again = await client.signInWithDevice({ deviceId, deviceSecret: guest.deviceSecret })
    assert.equal(again.user.id, guest.user.id)
    assert.equal(again.deviceSecret, null)

    const empty = await client.sessionData.get()
    assert.deepEqual(empty, { data: {}, etag: '"0"' })
    const written = await client.sessionData.replace({ cart: ['sword'] }, empty.etag)
    assert.deepEqual(written, { data: { cart: ['sword'] }, etag: '"1"' })
    const patched = await client.sessionData.patch({ cart: null, gold: 3 }, written.etag)
    assert.deepEqual(patched, { data: { gold: 3 }, etag: '"2"' })
    await assert.rejects(
      client.sessionData.patch({ gold: 4 }, written.etag),
      (error: unknown) => error instanceof TesseraError && error.code === 'precondition_failed',
    )
    const progress = await client.playerData.replace({ level: 2 }, (await client.playerData.get()).etag)
    assert.equal(progress.etag, '"1"')

    const username = uniqueUsername('sdk')
    const named = await client.addCredentials({ username, password: strongPassword })
    assert.equal(named.id, guest.user.id)
    assert.equal(named.username, username)
    assert.deepEqual((await client.playerData.get()).data, { level: 2 })

    const tablet = `tablet-${crypto.randomUUID()}`
    const linked = await client.devices.link(tablet)
    assert.ok(linked.deviceSecret)
    assert.deepEqual((await client.devices.list()).map((device) => device.deviceId).sort(), [deviceId, tablet].sort())
    await client.devices.unlink(linked.device.id)
    assert.deepEqual(
      (await client.devices.list()).map((device) => device.deviceId),
      [deviceId],
    )

    const ticket = await client.createTicket('match-server')
    assert.equal(ticket.expiresInSeconds, 30)
    const service = await createIntrospectionClient(server)
    const redeemed = await server.request('/v1/tickets/redeem', {
      body: { ticket: ticket.ticket, audience: 'match-server' },
      headers: { authorization: service.authorization },
    })
    assert.equal(redeemed.json.sub, guest.user.id)
    assert.equal(redeemed.json.username, username)
  })
})

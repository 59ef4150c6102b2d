/**
 * Alert webhooks: a receiver on 127.0.0.1 gets the alert with a valid HMAC-SHA256 signature;
 * while it is down, delivery is retried with back-off, and request handling is unaffected.
 */
import assert from 'node:assert/strict'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { createAccount, startAuditServer } from '../helpers/audit-server.ts'

const secret = 'webhook-shared-secret-for-tests'
const password = 'correct horse battery staple'

interface Received {
  body: string
  signature: string
  delivery: string
}

async function startReceiver(t: TestContext, options: { status?: number; isHanging?: boolean } = {}) {
  const received: Received[] = []
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(request.headers['x-tessera-signature']),
        delivery: String(request.headers['x-tessera-delivery']),
      })
      if (!options.isHanging) response.writeHead(options.status ?? 204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  t.after(() => server.closeAllConnections())
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tessera`, received }
}

/** How many seconds a receiver accepts between the signing time and its own clock. */
const toleranceSeconds = 300

/**
 * The receiver's check, as the README describes it: parse `t` and `v1`, refuse a signing time
 * outside the tolerance window, recompute the HMAC over "<t>.<body>" and compare in constant time.
 */
function isSignatureValid(body: string, header: string, receivedAt: Date): boolean {
  const parts = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]))
  const timestamp = parts.get('t')
  const presented = parts.get('v1')
  if (timestamp === undefined || presented === undefined || !/^\d+$/.test(timestamp)) return false
  if (Math.abs(receivedAt.getTime() / 1000 - Number(timestamp)) > toleranceSeconds) return false
  const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest()
  const presentedBytes = Buffer.from(presented, 'hex')
  return presentedBytes.length === expected.length && timingSafeEqual(presentedBytes, expected)
}

async function raiseBruteForce(server: Awaited<ReturnType<typeof startAuditServer>>) {
  await createAccount(server, 'heidi', password)
  for (let attempt = 0; attempt < 10; attempt += 1) {
    await server.request('/v1/auth/login', { body: { username: 'heidi', password: 'wrong horse battery staple' } })
  }
  return server.application.maintenance.runReview(server.clock.now())
}

describe('alert webhook', () => {
  it('delivers a raised alert to the receiver with a valid HMAC-SHA256 signature over the body', async (t) => {
    const receiver = await startReceiver(t)
    const server = await startAuditServer(t, {
      TESSERA_ALERT_WEBHOOK_URL: receiver.url,
      TESSERA_ALERT_WEBHOOK_SECRET: secret,
    })
    const { alerts } = await raiseBruteForce(server)
    assert.deepEqual(await server.application.maintenance.alertDelivery?.deliverDueAlerts(), {
      delivered: 1,
      retrying: 0,
      abandoned: 0,
    })
    assert.equal(receiver.received.length, 1)
    const [delivery] = receiver.received
    const now = server.clock.now()
    assert.ok(delivery && isSignatureValid(delivery.body, delivery.signature, now))
    assert.match(delivery.signature, new RegExp(`^t=${Math.floor(now.getTime() / 1000)},v1=[0-9a-f]{64}$`))
    assert.ok(!isSignatureValid(`${delivery.body} `, delivery.signature, now), 'the signature covers the exact body')
    // regression: #11 — a captured delivery replayed after the tolerance window is refused,
    // and moving its time forward breaks the MAC.
    assert.ok(
      !isSignatureValid(delivery.body, delivery.signature, new Date(now.getTime() + (toleranceSeconds + 1) * 1000)),
    )
    const later = Math.floor(now.getTime() / 1000) + toleranceSeconds + 1
    const forged = delivery.signature.replace(/^t=\d+/, `t=${later}`)
    assert.ok(!isSignatureValid(delivery.body, forged, new Date(later * 1000)), 'the time is inside the MAC')
    const payload = JSON.parse(delivery.body)
    assert.equal(payload.type, 'tessera.alert')
    assert.equal(payload.alert.id, alerts[0]?.id)
    assert.equal(delivery.delivery, alerts[0]?.id)
    assert.equal(payload.alert.rule, 'brute_force')
    assert.deepEqual(payload.alert.evidence.counts, { failures: 10, ips: 1 })
    const listed = await server.application.auditTrail.listAlerts({ since: null, rule: null, after: null, limit: 5 })
    assert.equal(listed.alerts[0]?.deliveryState, 'delivered')
    assert.deepEqual(await server.application.maintenance.alertDelivery?.deliverDueAlerts(), {
      delivered: 0,
      retrying: 0,
      abandoned: 0,
    })
  })

  it('retries with back-off while the receiver is down, then delivers once it is back', async (t) => {
    const down = await startReceiver(t, { status: 503 })
    const server = await startAuditServer(t, {
      TESSERA_ALERT_WEBHOOK_URL: down.url,
      TESSERA_ALERT_WEBHOOK_SECRET: secret,
    })
    await raiseBruteForce(server)
    const deliver = () => server.application.maintenance.alertDelivery?.deliverDueAlerts()
    assert.deepEqual(await deliver(), { delivered: 0, retrying: 1, abandoned: 0 })
    // Not due yet: the first back-off is 15 s.
    server.clock.advanceSeconds(14)
    assert.deepEqual(await deliver(), { delivered: 0, retrying: 0, abandoned: 0 })
    server.clock.advanceSeconds(1)
    assert.deepEqual(await deliver(), { delivered: 0, retrying: 1, abandoned: 0 })
    server.clock.advanceSeconds(30)
    assert.deepEqual(await deliver(), { delivered: 0, retrying: 1, abandoned: 0 })
    assert.equal(down.received.length, 3)
    // Each attempt is signed at its own time: a retry is valid when it arrives, whatever its age.
    const times = down.received.map((delivery) => /^t=(\d+),/.exec(delivery.signature)?.[1])
    assert.equal(new Set(times).size, 3)
    assert.ok(isSignatureValid(down.received[2]?.body ?? '', down.received[2]?.signature ?? '', server.clock.now()))
    const [alert] = (await server.application.auditTrail.listAlerts({ since: null, rule: null, after: null, limit: 5 }))
      .alerts
    assert.equal(alert?.deliveryAttempts, 3)
    assert.equal(alert?.nextDeliveryAt?.getTime(), server.clock.now().getTime() + 60_000)
  })

  it('keeps answering requests at once while a delivery hangs on an unresponsive receiver', async (t) => {
    const hanging = await startReceiver(t, { isHanging: true })
    const server = await startAuditServer(t, {
      TESSERA_ALERT_WEBHOOK_URL: hanging.url,
      TESSERA_ALERT_WEBHOOK_SECRET: secret,
      TESSERA_ALERT_WEBHOOK_TIMEOUT: '2s',
    })
    await raiseBruteForce(server)
    const delivery = server.application.maintenance.alertDelivery?.deliverDueAlerts()
    const startedAt = performance.now()
    for (let index = 0; index < 10; index += 1) {
      assert.equal((await server.request('/v1/auth/login', { body: { username: 'heidi', password } })).status, 200)
    }
    assert.ok(performance.now() - startedAt < 1500, 'logins waited for the webhook')
    assert.deepEqual(await delivery, { delivered: 0, retrying: 1, abandoned: 0 })
  })

  it('refuses a webhook URL without a secret, and a short secret, at start-up', async (t) => {
    await assert.rejects(
      startAuditServer(t, { TESSERA_ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/x' }),
      /TESSERA_ALERT_WEBHOOK_URL/,
    )
    await assert.rejects(
      startAuditServer(t, { TESSERA_ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/x', TESSERA_ALERT_WEBHOOK_SECRET: 'short' }),
      /at least 16/,
    )
  })
})

/**
 * Delivers alerts to the operator's webhook: an HTTP POST of JSON, signed with HMAC-SHA256 under
 * a shared secret over the signing time and the exact body bytes
 * (`X-Tessera-Signature: t=<unix seconds>,v1=<hex>`), so the receiver can tell Tessera's alerts
 * from forged ones, and a captured delivery replayed later from a fresh one: the receiver
 * refuses a signing time outside its tolerance window (README, "Webhook"). A failed attempt is retried with
 * exponential back-off (base × 2^attempt, capped) until the attempt limit, then abandoned. The
 * state lives in the alert store, so retries survive a restart. Delivery runs in background
 * jobs only, never inside request handling.
 */
import { createHmac } from 'node:crypto'
import type { Clock } from '../clock.ts'
import type { AlertRecord, AlertStore } from './store.ts'

/** Posts a body; resolves with the HTTP status, rejects on a network error or timeout. */
export type WebhookPoster = (url: string, body: string, headers: Record<string, string>) => Promise<number>

export interface WebhookSettings {
  url: string
  secret: string
  maxAttempts: number
  baseBackoffSeconds: number
  maxBackoffSeconds: number
}

export interface DeliveryReport {
  delivered: number
  retrying: number
  abandoned: number
}

export interface AlertDelivery {
  /** Attempts every alert whose delivery is due now. */
  deliverDueAlerts(): Promise<DeliveryReport>
}

export const signatureHeader = 'x-tessera-signature'

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (the scheme Stripe's webhooks use):
 * the time is inside the MAC, so it cannot be changed to make an old delivery look new. Each
 * attempt, retries included, is signed at its own time.
 */
export function signWebhookBody(body: string, secret: string, signedAt: Date): string {
  const timestamp = Math.floor(signedAt.getTime() / 1000)
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')
  return `t=${timestamp},v1=${mac}`
}

/** The JSON document a receiver gets (a contract: fields are only ever added). */
export function describeAlertForWebhook(alert: AlertRecord) {
  const { evidence } = alert
  return {
    id: alert.id,
    rule: alert.rule,
    severity: alert.severity,
    summary: alert.summary,
    raised_at: alert.raisedAt.toISOString(),
    window: { starts_at: alert.windowStartsAt.toISOString(), ends_at: alert.windowEndsAt.toISOString() },
    evidence: {
      counts: evidence.counts,
      ips: evidence.ips,
      usernames: evidence.usernames,
      user_ids: evidence.userIds,
      session_ids: evidence.sessionIds,
      event_ids: evidence.eventIds,
      first_seen_at: evidence.firstSeenAt.toISOString(),
      last_seen_at: evidence.lastSeenAt.toISOString(),
    },
  }
}

const batchSize = 50

export function createAlertDelivery(deps: {
  store: AlertStore
  clock: Clock
  settings: WebhookSettings
  post: WebhookPoster
}): AlertDelivery {
  const { store, clock, settings, post } = deps

  function backoffSeconds(attempts: number): number {
    return Math.min(settings.maxBackoffSeconds, settings.baseBackoffSeconds * 2 ** (attempts - 1))
  }

  async function attempt(alert: AlertRecord): Promise<'delivered' | 'retrying' | 'abandoned'> {
    const body = JSON.stringify({ type: 'tessera.alert', alert: describeAlertForWebhook(alert) })
    const headers = {
      'content-type': 'application/json',
      [signatureHeader]: signWebhookBody(body, settings.secret, clock.now()),
      'x-tessera-delivery': alert.id,
    }
    let isAccepted = false
    try {
      const status = await post(settings.url, body, headers)
      isAccepted = status >= 200 && status < 300
    } catch {
      // A refused connection or a timeout is a failed attempt like a 5xx: retried below.
      isAccepted = false
    }
    const now = clock.now()
    const attempts = alert.deliveryAttempts + 1
    if (isAccepted) {
      await store.updateAlertDelivery(alert.id, {
        deliveryState: 'delivered',
        deliveryAttempts: attempts,
        nextDeliveryAt: null,
        deliveredAt: now,
      })
      return 'delivered'
    }
    if (attempts >= settings.maxAttempts) {
      await store.updateAlertDelivery(alert.id, {
        deliveryState: 'abandoned',
        deliveryAttempts: attempts,
        nextDeliveryAt: null,
        deliveredAt: null,
      })
      return 'abandoned'
    }
    const nextDeliveryAt = new Date(now.getTime() + backoffSeconds(attempts) * 1000)
    await store.updateAlertDelivery(alert.id, {
      deliveryState: 'pending',
      deliveryAttempts: attempts,
      nextDeliveryAt,
      deliveredAt: null,
    })
    return 'retrying'
  }

  return {
    async deliverDueAlerts() {
      const report: DeliveryReport = { delivered: 0, retrying: 0, abandoned: 0 }
      const due = await store.listAlertsDueForDelivery(clock.now(), batchSize)
      for (const alert of due) report[await attempt(alert)] += 1
      return report
    },
  }
}

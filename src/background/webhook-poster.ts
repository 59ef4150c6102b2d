/**
 * Posts an alert webhook with `fetch`. Redirects are not followed (a redirect to another host
 * would carry the signed body somewhere the operator did not name), and every attempt has a
 * timeout, so a receiver that hangs only delays the background job, never a request.
 */
import type { WebhookPoster } from '../core/alerts/webhook-delivery.ts'

export function createWebhookPoster(timeoutSeconds: number): WebhookPoster {
  return async (url, body, headers) => {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    })
    // The body is not needed; reading it frees the connection.
    await response.arrayBuffer().catch(() => undefined)
    return response.status
  }
}

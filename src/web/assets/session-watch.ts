/**
 * Signed-in pages: when the tab comes back into view, asks Tessera whether its session is still
 * alive (through the client SDK, cookie transport), and goes to the sign-in page once it is not,
 * rather than leaving a page whose next form would be refused.
 */
import { createTesseraClient, TesseraError } from '../../client/index.ts'

const client = createTesseraClient({ baseUrl: location.origin, transport: 'cookie', timeoutSeconds: 10 })

async function checkSession(): Promise<void> {
  try {
    await client.me()
  } catch (error) {
    // Only a refused session leaves the page; a network failure leaves it as it is.
    if (!(error instanceof TesseraError) || error.status !== 401) return
    const here = `${location.pathname}${location.search}`
    location.assign(`/login?notice=ended&return_to=${encodeURIComponent(here)}`)
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void checkSession()
})

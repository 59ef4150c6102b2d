/**
 * Signed-in pages: when the tab comes back into view, asks Tessera whether its session is still
 * alive (through the client SDK, cookie transport), and goes to the sign-in page once it is not,
 * rather than leaving a page that would refuse its next form. A session ended in another tab of
 * this browser ends here at the same moment (the SDK tells its other tabs).
 */
import { createTesseraClient } from '../../client/index.ts'

const client = createTesseraClient({ baseUrl: location.origin, transport: 'cookie', timeoutSeconds: 10 })

client.onSessionEnd(() => {
  const here = `${location.pathname}${location.search}`
  location.assign(`/login?ended=1&return_to=${encodeURIComponent(here)}`)
})

async function checkSession(): Promise<void> {
  try {
    await client.me()
  } catch {
    // An ended session is handled by onSessionEnd; a network failure leaves the page as it is.
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void checkSession()
})

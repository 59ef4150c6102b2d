/**
 * Passkeys on the hosted pages in a real Chromium, through its virtual authenticator (DevTools
 * protocol `WebAuthn.addVirtualAuthenticator`: a platform authenticator with resident keys that
 * verifies its user): registered from the account page, signing in with the passkey alone (a
 * discoverable credential, no username), as the second step after a password, and removed. The
 * `amr` of the tokens the sessions give says how they were authenticated. WebAuthn needs a
 * domain for its relying-party id, so this server's public URL is on `localhost`.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { createSharedChromium, skipUnlessChromium } from '../helpers/browser.ts'
import { assertAccessible, assertNoProblems, openWatchedPage } from '../helpers/page-browser.ts'
import { findFreePort } from '../helpers/redis.ts'
import { enrolTotp } from '../helpers/second-factor.ts'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  type TestServer,
} from '../helpers/test-server.ts'

const sharedChromium = createSharedChromium()
const requireBrowser = (): Browser => sharedChromium.require()

async function startLocalhostServer(t: TestContext): Promise<{ server: TestServer; base: string }> {
  const port = await findFreePort()
  const base = `http://localhost:${port}`
  const server = await startTestServer(t, { TESSERA_PUBLIC_URL: base }, { port })
  return { server, base }
}

/** The `amr` of an access token for this browser's cookie session (asked from within the page). */
async function sessionMethods(page: Page): Promise<string[]> {
  const token = await page.evaluate(async () => {
    const response = await fetch('/v1/auth/token', { method: 'POST', credentials: 'same-origin' })
    return ((await response.json()) as { access_token: string }).access_token
  })
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { amr: string[] }
  return payload.amr
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.waitForURL(/notice=signed_out/)
}

describe('passkeys on the pages, in Chromium', { skip: skipUnlessChromium() }, () => {
  sharedChromium.startForSuite()

  it('registers a passkey from the account page, signs in with it alone and as a second step, and removes it', async (t) => {
    const { server, base } = await startLocalhostServer(t)
    const user = await registerUser(server)
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    const devtools = await page.context().newCDPSession(page)
    await devtools.send('WebAuthn.enable')
    const { authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    })

    await page.goto(`${base}/login`)
    await page.locator('#username').fill(user.username)
    await page.locator('#password').fill(strongPassword)
    await page.locator('main form[action="/login"] button[type="submit"]').click()
    await page.waitForURL(`${base}/account`)
    assert.deepEqual(await sessionMethods(page), ['pwd'])
    await page.getByRole('link', { name: 'Passkeys' }).click()
    assert.equal(
      await page.getByText('Adding a passkey needs JavaScript').isVisible(),
      false,
      'the script replaced the fallback',
    )
    await assertAccessible(page)
    await page.getByRole('button', { name: 'Add a passkey' }).click()
    assert.equal(await page.locator('#name-error').textContent(), 'Enter a name for the passkey.')
    await page.getByLabel('Name of the passkey').fill('Work laptop')
    await page.getByRole('button', { name: 'Add a passkey' }).click()
    await page.waitForURL(`${base}/account/passkeys?notice=added`)
    assert.match((await page.locator('tbody').textContent()) ?? '', /Work laptop/)
    const { credentials } = await devtools.send('WebAuthn.getCredentials', { authenticatorId })
    assert.equal(credentials.length, 1)
    assert.equal(credentials[0]?.isResidentCredential, true, 'a discoverable credential')
    await assertAccessible(page)

    // The passkey alone: no username, no password, and a multi-factor session.
    await signOut(page)
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
    await page.waitForURL(`${base}/account`)
    const passkeyMethods = await sessionMethods(page)
    assert.ok(passkeyMethods.includes('hwk') || passkeyMethods.includes('swk'), `amr ${passkeyMethods.join(',')}`)
    assert.ok(!passkeyMethods.includes('pwd'))
    assert.equal((await devtools.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0]?.signCount, 2)

    // With an authenticator app on, the passkey also serves as the second step after the password.
    const token = await logInWithToken(server, user.username)
    await enrolTotp(server, { bearer: token.access_token })
    await signOut(page)
    await page.locator('#username').fill(user.username)
    await page.locator('#password').fill(strongPassword)
    await page.locator('main form[action="/login"] button[type="submit"]').click()
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Confirm it is you')
    await page.getByRole('button', { name: 'Use a passkey' }).click()
    await page.waitForURL(`${base}/account`)
    const stepMethods = await sessionMethods(page)
    assert.ok(
      stepMethods.includes('pwd') && (stepMethods.includes('hwk') || stepMethods.includes('swk')),
      `amr ${stepMethods.join(',')}`,
    )

    await page.goto(`${base}/account/passkeys`)
    await page.getByRole('button', { name: 'Remove the passkey Work laptop' }).click()
    await page.waitForURL(`${base}/account/passkeys?notice=removed`)
    assert.equal(await page.getByText('No passkeys yet.').isVisible(), true)
    const listed = await server.request('/v1/me/passkeys', { bearer: token.access_token })
    assert.deepEqual(listed.json.passkeys, [])

    // A passkey the server no longer knows signs nobody in.
    await signOut(page)
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
    await page.waitForURL(`${base}/login/passkey`)
    assert.match((await page.getByRole('alert').first().textContent()) ?? '', /could not sign you in/)
    await assertNoProblems(watched)
  })
})

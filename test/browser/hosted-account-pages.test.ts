/**
 * The account pages in a real Chromium, as people use them: changing the password, listing and
 * ending sessions, and a page that notices its session ended elsewhere, with their effects
 * checked through the API. Every page is checked for Content-Security-Policy violations, script
 * errors, and serious axe-core findings.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { createSharedChromium, skipUnlessChromium } from '../helpers/browser.ts'
import {
  assertAccessible,
  assertNoProblems,
  openWatchedPage,
  signInThroughForm,
  startPageServer,
} from '../helpers/page-browser.ts'
import { logInWithToken, registerUser, strongPassword } from '../helpers/test-server.ts'

const sharedChromium = createSharedChromium()
const requireBrowser = (): Browser => sharedChromium.require()

describe('account pages in Chromium', { skip: skipUnlessChromium() }, () => {
  sharedChromium.startForSuite()

  it('changes the password: other sessions end, this browser stays signed in, and the new password works', async (t) => {
    const server = await startPageServer(t)
    const user = await registerUser(server)
    const other = await logInWithToken(server, user.username)
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    await signInThroughForm(page, server, user.username)
    await page.getByRole('link', { name: 'Change password' }).click()
    await assertAccessible(page)
    await page.getByLabel('Current password').fill('not my password at all')
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase of mine')
    await page.getByLabel('Repeat the new password').fill('a brand new passphrase of mine')
    await page.getByRole('button', { name: 'Change password' }).click()
    assert.equal(await page.locator('#current_password-error').textContent(), 'The current password is not correct.')
    assert.equal(
      await page.evaluate(
        () => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id,
      ),
      'current_password',
    )
    await page.getByLabel('Current password').fill(strongPassword)
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase of mine')
    await page.getByLabel('Repeat the new password').fill('a brand new passphrase of mine')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.waitForURL(`${server.url}/account/password?notice=changed`)
    assert.match((await page.getByRole('status').textContent()) ?? '', /Every other session has ended/)
    assert.equal((await server.request('/v1/me', { bearer: other.access_token })).status, 401)
    assert.equal(
      (await server.request('/v1/auth/login', { body: { username: user.username, password: strongPassword } })).status,
      401,
    )
    assert.equal(
      (
        await server.request('/v1/auth/login', {
          body: { username: user.username, password: 'a brand new passphrase of mine' },
        })
      ).status,
      200,
    )
    await page.getByRole('link', { name: 'Overview' }).click()
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Your account')
    await assertNoProblems(watched)
  })

  it('lists sessions with device, address and activity, ends one, ends all others, and signs out', async (t) => {
    const server = await startPageServer(t)
    const user = await registerUser(server)
    const phone = await server.request('/v1/auth/login', {
      body: { username: user.username, password: strongPassword },
      headers: {
        'user-agent':
          'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      },
    })
    const game = await logInWithToken(server, user.username)
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    await signInThroughForm(page, server, user.username)
    await page.getByRole('link', { name: 'Sessions' }).click()
    await assertAccessible(page)
    const rows = page.locator('tbody tr')
    assert.equal(await rows.count(), 3)
    assert.match((await page.locator('tbody').textContent()) ?? '', /Safari 17 on iOS/)
    assert.match((await page.locator('tbody').textContent()) ?? '', /This browser/)
    await page.getByRole('button', { name: /^End the session of Safari 17 on iOS/ }).click()
    assert.match((await page.getByRole('status').textContent()) ?? '', /The session has ended/)
    assert.equal((await server.request('/v1/me', { bearer: phone.json.access_token })).status, 401)
    assert.equal((await server.request('/v1/me', { bearer: game.access_token })).status, 200)
    await page.getByRole('button', { name: 'Sign out everywhere else' }).click()
    assert.match((await page.getByRole('status').textContent()) ?? '', /1 other sessions ended/)
    assert.equal((await server.request('/v1/me', { bearer: game.access_token })).status, 401)
    assert.equal(await rows.count(), 1)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(`${server.url}/login?notice=signed_out`)
    assert.equal(await page.getByRole('status').textContent(), 'You have signed out.')
    await page.goto(`${server.url}/account`)
    assert.match(page.url(), /\/login\?return_to=%2Faccount$/)
    await assertNoProblems(watched)
  })

  it('leaves an account page for the sign-in page when its session ends elsewhere (the SDK, in the page)', async (t) => {
    const server = await startPageServer(t)
    const user = await registerUser(server)
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    await signInThroughForm(page, server, user.username)
    const other = await logInWithToken(server, user.username)
    // Sign out everywhere from another device; the tab comes back into view.
    assert.equal(
      (await server.request('/v1/sessions?scope=all', { method: 'DELETE', bearer: other.access_token })).status,
      200,
    )
    await page.evaluate(() => {
      const globals = globalThis as unknown as {
        document: { dispatchEvent(event: unknown): void }
        Event: new (type: string) => unknown
      }
      globals.document.dispatchEvent(new globals.Event('visibilitychange'))
    })
    await page.waitForURL(/\/login\?notice=ended&return_to=%2Faccount$/)
    assert.equal(await page.getByRole('status').textContent(), 'Your session has ended. Sign in again.')
    await assertNoProblems(watched)
  })
})

/**
 * A user deleting their own account from the account page in a real Chromium: a wrong password
 * is refused on its field, the right one deletes the account, and the API then refuses the
 * credentials. The page is checked for CSP violations, script errors and serious axe-core
 * findings.
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
import { registerUser, strongPassword, uniqueUsername } from '../helpers/test-server.ts'

const sharedChromium = createSharedChromium()
const requireBrowser = (): Browser => sharedChromium.require()

describe("deleting one's own account, in Chromium", { skip: skipUnlessChromium() }, () => {
  sharedChromium.startForSuite()

  it('asks for the password first, then the account is gone', async (t) => {
    const server = await startPageServer(t)
    const leaving = await registerUser(server, uniqueUsername('leaving'))
    const own = await openWatchedPage(t, requireBrowser())
    await signInThroughForm(own.page, server, leaving.username)
    await own.page.getByLabel('Your password').fill('not my password at all')
    await own.page.getByRole('button', { name: 'Delete my account' }).click()
    assert.equal(await own.page.locator('#password-error').textContent(), 'The current password is not correct.')
    await assertAccessible(own.page)
    await own.page.getByLabel('Your password').fill(strongPassword)
    await own.page.getByRole('button', { name: 'Delete my account' }).click()
    await own.page.waitForURL(`${server.url}/login?notice=deleted`)
    assert.equal(await own.page.getByRole('status').textContent(), 'Your account was deleted.')
    assert.equal(
      (await server.request('/v1/auth/login', { body: { username: leaving.username, password: strongPassword } }))
        .status,
      401,
    )
    await assertNoProblems(own)
  })
})

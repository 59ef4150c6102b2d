/**
 * The console's actions on a user in a real Chromium, each checked through the API: find the
 * user, sign them out everywhere, disable and enable, set a password, reset the second factor,
 * require a new password. A user deleting their own account is in account-deletion-page.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { createSharedChromium, skipUnlessChromium } from '../helpers/browser.ts'
import {
  assertAccessible,
  assertNoProblems,
  createAdmin,
  openWatchedPage,
  signInThroughForm,
  startPageServer,
  submitSignInForm,
} from '../helpers/page-browser.ts'
import { enrolTotp } from '../helpers/second-factor.ts'
import { logInWithToken, registerUser, strongPassword, uniqueUsername } from '../helpers/test-server.ts'

const sharedChromium = createSharedChromium()
const requireBrowser = (): Browser => sharedChromium.require()

describe("the console's user actions, in Chromium", { skip: skipUnlessChromium() }, () => {
  sharedChromium.startForSuite()

  it('finds a user, signs them out, disables and enables, sets a password, resets the second factor and requires a new password', async (t) => {
    const server = await startPageServer(t)
    const admin = await createAdmin(server)
    const user = await registerUser(server, uniqueUsername('zed'))
    const token = await logInWithToken(server, user.username)
    await enrolTotp(server, { bearer: token.access_token })
    const login = (password: string) =>
      server.request('/v1/auth/login', { body: { username: user.username, password } })
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    await signInThroughForm(page, server, admin.username)

    await page.goto(`${server.url}/admin/users`)
    await page.getByLabel('Username starts with').fill(user.username.slice(0, 6))
    await page.getByRole('button', { name: 'Find' }).click()
    assert.equal(await page.locator('tbody tr').count(), 1)
    await page.getByRole('link', { name: user.username }).click()
    assert.match((await page.locator('#mfa-heading + p').textContent()) ?? '', /Authenticator app: on/)
    await assertAccessible(page)

    await page.getByRole('button', { name: 'Sign out everywhere' }).click()
    assert.match((await page.getByRole('status').textContent()) ?? '', /1 sessions ended/)
    assert.equal((await server.request('/v1/me', { bearer: token.access_token })).status, 401)

    await page.getByLabel('Note for the audit trail (optional)').fill('reported for cheating')
    await page.getByRole('button', { name: 'Disable the account' }).click()
    assert.match((await page.getByRole('status').textContent()) ?? '', /The account is disabled/)
    assert.equal((await login(strongPassword)).status, 401)
    await page.getByRole('button', { name: 'Enable the account' }).click()
    assert.match((await page.getByRole('status').textContent()) ?? '', /enabled again/)
    assert.equal((await login(strongPassword)).json.code, 'mfa_required', 'the password is right again')

    await page.getByRole('button', { name: 'Reset the second factor' }).click()
    assert.match((await page.getByRole('status').textContent()) ?? '', /second factor was reset/)
    assert.equal((await login(strongPassword)).status, 200, 'no second step any more')

    await page.getByRole('button', { name: 'Save' }).click()
    assert.equal(await page.locator('#new_password-error').textContent(), 'Enter a new password, or require a new one.')
    await page.getByLabel('New password', { exact: true }).fill('aaaaaaaaaaaaaaaa')
    await page.getByRole('button', { name: 'Save' }).click()
    assert.match((await page.locator('#new_password-error').textContent()) ?? '', /repeats a short pattern/)
    await page.getByLabel('New password', { exact: true }).fill('an operator chosen passphrase')
    await page.getByRole('button', { name: 'Save' }).click()
    assert.match((await page.getByRole('status').textContent()) ?? '', /password settings were saved/)
    assert.equal((await login(strongPassword)).status, 401)
    assert.equal((await login('an operator chosen passphrase')).status, 200)
    await page.getByLabel('Require a new password at the next sign-in').check()
    await page.getByRole('button', { name: 'Save' }).click()
    const signedIn = await login('an operator chosen passphrase')
    assert.equal(
      (await server.request('/v1/sessions', { bearer: signedIn.json.access_token })).json.code,
      'password_change_required',
    )
    await assertNoProblems(watched)
    // On the pages, the user is sent to the password page, the one page open to them.
    const required = await openWatchedPage(t, requireBrowser())
    await submitSignInForm(required.page, server, user.username, 'an operator chosen passphrase')
    await required.page.waitForURL(`${server.url}/account/password?notice=required`)
    assert.match((await required.page.getByRole('status').textContent()) ?? '', /choose a new password/)
  })
})

/**
 * Forgot password to a new password in a real Chromium, with a real SMTP server in the test:
 * the address confirmed through its mailed link, the reset asked for from the sign-in page, the
 * mailed link opened with its token in the fragment, the new password set and used, and the
 * link refused the second time. No page may raise a CSP violation or a script error.
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
import { startTestSmtpServer, type ReceivedMail } from '../helpers/smtp-server.ts'
import { strongPassword, uniqueUsername, type TestServer } from '../helpers/test-server.ts'

const newPassword = 'a brand new passphrase for this account'
const sharedChromium = createSharedChromium()
const requireBrowser = (): Browser => sharedChromium.require()

/** The link of a mail, as the person clicks it: this server's page, the token in the fragment. */
function readLink(server: TestServer, mail: ReceivedMail, page: 'password-reset' | 'verify-email'): string {
  const link = new RegExp(`${server.url.replace(/[.]/g, '\\.')}/${page}#token=[A-Za-z0-9_-]+`).exec(mail.text)?.[0]
  assert.ok(link, `the mail links to this server's ${page} page`)
  return link
}

describe('password reset pages in Chromium', { skip: skipUnlessChromium() }, () => {
  sharedChromium.startForSuite()

  it('confirms the address, mails a reset link that sets a new password once, and signs in with it', async (t) => {
    const smtp = await startTestSmtpServer(t)
    const server = await startPageServer(t, {
      TESSERA_SMTP_URL: smtp.url,
      TESSERA_MAIL_FROM: 'Tessera <no-reply@tessera.test>',
    })
    const username = uniqueUsername('reset')
    const address = `${username}@example.com`
    const registered = await server.request('/v1/auth/register', {
      body: { username, password: strongPassword, email: address },
    })
    assert.equal(registered.status, 201, registered.text)
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    const requests: string[] = []
    page.on('request', (request) =>
      requests.push(`${request.method()} ${request.url()} ${request.headers().referer ?? ''}`),
    )

    // The verification link: the page moves the token into its form and sends it by itself.
    await page.goto(readLink(server, await smtp.nextMailTo(address), 'verify-email'))
    await page.getByRole('heading', { level: 1, name: 'Address confirmed' }).waitFor()
    assert.match((await page.locator('main').textContent()) ?? '', new RegExp(`The address ${address} is confirmed`))

    await page.goto(`${server.url}/login`)
    await page.getByRole('link', { name: 'Forgot your password?' }).click()
    await page.waitForURL(`${server.url}/forgot-password`)
    await assertAccessible(page)
    await page.getByLabel('Username or email address').fill(username)
    await page.getByRole('button', { name: 'Send the link' }).click()
    await page.getByRole('heading', { level: 1, name: 'Check your mail' }).waitFor()

    const link = readLink(server, await smtp.nextMailTo(address), 'password-reset')
    await page.goto(link)
    // The token left the address bar (and the history) for the form's hidden field.
    assert.equal(page.url(), `${server.url}/password-reset`)
    assert.equal(await page.locator('input[name="token"]').inputValue(), new URL(link).hash.slice('#token='.length))
    await assertAccessible(page)
    await page.getByLabel('New password').fill(newPassword)
    await page.getByLabel('Repeat the password').fill('not the same passphrase at all')
    await page.getByRole('button', { name: 'Set the new password' }).click()
    assert.equal(await page.locator('#password_repeat-error').textContent(), 'The two passwords are not the same.')
    await page.getByLabel('New password').fill(newPassword)
    await page.getByLabel('Repeat the password').fill(newPassword)
    await page.getByRole('button', { name: 'Set the new password' }).click()
    await page.getByRole('heading', { level: 1, name: 'Your password is set' }).waitFor()
    assert.match((await page.locator('main').textContent()) ?? '', /every session of your account was ended/)
    await page.getByRole('link', { name: 'Sign in' }).last().click()
    await page.waitForURL(`${server.url}/login`)
    await signInThroughForm(page, server, username, newPassword)

    // The same link again, in a fresh tab: refused, with the way to a new one.
    const second = await openWatchedPage(t, requireBrowser())
    await second.page.goto(link)
    await second.page.getByLabel('New password').fill('yet another long passphrase here')
    await second.page.getByLabel('Repeat the password').fill('yet another long passphrase here')
    await second.page.getByRole('button', { name: 'Set the new password' }).click()
    await second.page.getByRole('heading', { level: 1, name: 'This link does not work' }).waitFor()
    await second.page.getByRole('link', { name: 'Ask for a new link' }).click()
    await second.page.waitForURL(`${server.url}/forgot-password`)

    const token = new URL(link).hash.slice('#token='.length)
    assert.deepEqual(
      requests.filter((line) => line.includes(token)),
      [],
      'no request carried the token in its URL or Referer',
    )
    await assertNoProblems(watched)
    await assertNoProblems(second)
  })
})

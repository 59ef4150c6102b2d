/**
 * The second factor on the hosted pages in a real Chromium: the second step of a sign-in (a code
 * from the app, a recovery code), enrolment from the account page (the QR code, the key, the
 * recovery codes shown once), regeneration, turning it off, and the page that confirms it is you
 * when the session's authentication is too old. Effects are checked through the API.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { createSharedChromium, skipUnlessChromium } from '../helpers/browser.ts'
import {
  assertAccessible,
  assertNoProblems,
  openWatchedPage,
  signInThroughForm,
  startPageServer,
} from '../helpers/page-browser.ts'
import { decodeBase32 } from '../../src/core/second-factor/totp.ts'
import { describeTotp, enrolTotp } from '../helpers/second-factor.ts'
import { logInWithToken, registerUser, strongPassword, type TestServer } from '../helpers/test-server.ts'

const sharedChromium = createSharedChromium()
const requireBrowser = (): Browser => sharedChromium.require()

const activeId = (page: Page) =>
  page.evaluate(
    () => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id,
  )

async function submitPassword(page: Page, server: TestServer, username: string): Promise<void> {
  await page.goto(`${server.url}/login`)
  await page.locator('#username').fill(username)
  await page.locator('#password').fill(strongPassword)
  await page.locator('main form[action="/login"] button[type="submit"]').click()
}

/** A code of the app that is none of the next few (so never accepted by chance). */
function wrongCode(codeAt: (offset?: number) => string): string {
  const near = new Set([-1, 0, 1, 2].map((offset) => codeAt(offset)))
  for (let candidate = 0; ; candidate += 1) {
    const code = String(candidate).padStart(6, '0')
    if (!near.has(code)) return code
  }
}

describe('the second factor on the pages, in Chromium', { skip: skipUnlessChromium() }, () => {
  sharedChromium.startForSuite()

  it('asks for the second step after the password: errors tied to the field, a code or a recovery code, then the session', async (t) => {
    const server = await startPageServer(t)
    const user = await registerUser(server)
    const token = await logInWithToken(server, user.username)
    const totp = await enrolTotp(server, { bearer: token.access_token })
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched

    await submitPassword(page, server, user.username)
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Confirm it is you')
    assert.equal(await activeId(page), 'code', 'the code field has focus')
    assert.equal(
      await page
        .context()
        .cookies()
        .then((cookies) => cookies.some((cookie) => cookie.name === '__Host-session')),
      false,
    )
    await assertAccessible(page)

    await page.getByRole('button', { name: 'Continue' }).click()
    assert.equal(await page.locator('#code-error').textContent(), 'Enter the code from your authenticator app.')
    await page.getByLabel('Code from the app').fill(wrongCode(totp.codeAt))
    await page.getByRole('button', { name: 'Continue' }).click()
    const code = page.getByLabel('Code from the app')
    assert.equal(await code.getAttribute('aria-invalid'), 'true')
    assert.match((await code.getAttribute('aria-describedby')) ?? '', /code-error/)
    assert.match((await page.locator('#code-error').textContent()) ?? '', /not correct or was already used/)
    assert.equal(await activeId(page), 'code')
    await assertAccessible(page)

    await code.fill(totp.codeAt())
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(`${server.url}/account`)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(/notice=signed_out/)

    // A recovery code, behind its disclosure; it works once.
    const recoveryCode = totp.recoveryCodes[0] ?? ''
    await submitPassword(page, server, user.username)
    await page.getByText('Use a recovery code instead').click()
    await page.getByLabel('Recovery code').fill(recoveryCode)
    await page.getByRole('button', { name: 'Use this recovery code' }).click()
    await page.waitForURL(`${server.url}/account`)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(/notice=signed_out/)
    await submitPassword(page, server, user.username)
    await page.getByText('Use a recovery code instead').click()
    await page.getByLabel('Recovery code').fill(recoveryCode)
    await page.getByRole('button', { name: 'Use this recovery code' }).click()
    assert.match((await page.locator('#recovery_code-error').textContent()) ?? '', /not correct or was already used/)
    assert.equal(
      await page.locator('details.recovery').getAttribute('open'),
      '',
      'the disclosure stays open on its error',
    )
    assert.equal(await activeId(page), 'recovery_code')

    // A challenge allows five checks, as the API's: then the password step starts again.
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await page.getByLabel('Code from the app').fill(wrongCode(totp.codeAt))
      await page.getByRole('button', { name: 'Continue' }).click()
    }
    await page.getByLabel('Code from the app').fill(totp.codeAt())
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(/\/login\?notice=second_step_expired$/)
    assert.match((await page.getByRole('status').textContent()) ?? '', /expired or was already used/)
    const events = await server.request('/v1/me/events', { bearer: token.access_token })
    assert.ok(events.json.events.filter((event: { type: string }) => event.type === 'mfa_failed').length >= 6)
    await assertNoProblems(watched)
  })

  it('sets up an authenticator app from the account page (QR code, key, recovery codes once), asks to confirm it is you when the sign-in is old, then regenerates and turns it off', async (t) => {
    const server = await startPageServer(t)
    const user = await registerUser(server)
    const token = await logInWithToken(server, user.username)
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    await signInThroughForm(page, server, user.username)
    await page.getByRole('link', { name: 'Two-step verification' }).click()
    const overview = await page.reload()
    assert.doesNotMatch(
      overview?.headers()['content-security-policy'] ?? '',
      /data:/,
      'other pages allow no data: images',
    )
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /Off/)
    await assertAccessible(page)

    const setupAnswer = page.waitForResponse((response) => response.url().endsWith('/account/second-factor/totp'))
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click()
    const policy = (await setupAnswer).headers()['content-security-policy'] ?? ''
    assert.match(policy, /img-src 'self' data:;/)
    const qr = page.getByRole('img', { name: 'QR code of the key for the authenticator app' })
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/png;base64,/)
    assert.ok(
      await qr.evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth > 0),
      'the QR code is shown',
    )
    await assertAccessible(page)
    const key = ((await page.locator('output.key').textContent()) ?? '').replace(/\s/g, '')
    const codeAt = describeTotp(server, decodeBase32(key))
    await page.getByLabel('Code from the app').fill(wrongCode(codeAt))
    await page.getByRole('button', { name: 'Turn on' }).click()
    assert.match((await page.locator('#code-error').textContent()) ?? '', /not correct/)
    await page.getByLabel('Code from the app').fill(codeAt())
    await page.getByRole('button', { name: 'Turn on' }).click()
    const codes = await page.locator('#recovery-codes li').allTextContents()
    assert.equal(codes.length, 10)
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /shown this once/)
    await assertAccessible(page)
    assert.equal((await server.request('/v1/me/mfa', { bearer: token.access_token })).json.enabled, true)
    await page.getByRole('link', { name: 'I have saved the codes' }).click()
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /On since/)

    // Eleven minutes on, the sign-in is too old for a sensitive change: confirm it is you, then go on.
    server.clock.advanceSeconds(11 * 60)
    await page.getByRole('button', { name: 'Make new recovery codes' }).click()
    await page.waitForURL(`${server.url}/account/reauthenticate?return_to=%2Faccount%2Fsecond-factor`)
    await assertAccessible(page)
    await page.getByLabel('Password').fill('not my password at all')
    await page.getByLabel('Code from the app').fill(codeAt())
    await page.getByRole('button', { name: 'Continue' }).click()
    assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true')
    assert.equal(await activeId(page), 'password')
    await page.getByLabel('Password').fill(strongPassword)
    await page.getByLabel('Code from the app').fill(codeAt())
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(`${server.url}/account/second-factor?notice=reauthenticated`)
    await page.getByRole('button', { name: 'Make new recovery codes' }).click()
    const renewed = await page.locator('#recovery-codes li').allTextContents()
    assert.equal(renewed.length, 10)
    assert.equal(renewed.filter((code) => codes.includes(code)).length, 0, 'a new set')
    await page.getByRole('link', { name: 'I have saved the codes' }).click()
    await page.getByRole('button', { name: 'Turn off two-step verification' }).click()
    await page.waitForURL(`${server.url}/account/second-factor?notice=disabled`)
    // Off: the password alone signs in again.
    assert.equal(
      (await server.request('/v1/auth/login', { body: { username: user.username, password: strongPassword } })).status,
      200,
    )
    await assertNoProblems(watched)
  })
})

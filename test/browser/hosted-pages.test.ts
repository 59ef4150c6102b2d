/**
 * The sign-in and registration pages in a real Chromium, as people use them: with the keyboard,
 * in English and Korean, with their effects checked through the API. Every page is checked for
 * Content-Security-Policy violations, script errors, and serious axe-core findings. The account
 * pages are in hosted-account-pages.test.ts.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import type { Browser } from 'playwright-core'
import { createSharedChromium, skipUnlessChromium } from '../helpers/browser.ts'
import { assertAccessible, assertNoProblems, openWatchedPage, startPageServer } from '../helpers/page-browser.ts'
import { registerUser, strongPassword, uniqueUsername } from '../helpers/test-server.ts'

const sharedChromium = createSharedChromium()
const requireBrowser = (): Browser => sharedChromium.require()

/** A page of an app on another origin, where a sign-in may return to. */
async function startAppOrigin(t: TestContext): Promise<string> {
  const server = createServer((_request, response) =>
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><p>app home'),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return `http://localhost:${(server.address() as AddressInfo).port}`
}

describe('sign-in and registration pages in Chromium', { skip: skipUnlessChromium() }, () => {
  sharedChromium.startForSuite()

  it('signs in with the keyboard alone, and the sign-in and account pages are accessible', async (t) => {
    const server = await startPageServer(t)
    const user = await registerUser(server)
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    await page.goto(`${server.url}/login`)
    await assertAccessible(page)
    // The username field has focus on arrival; Tab moves to the password, Enter submits.
    assert.equal(
      await page.evaluate(
        () => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id,
      ),
      'username',
    )
    await page.keyboard.type(user.username)
    await page.keyboard.press('Tab')
    await page.keyboard.type(strongPassword)
    await page.keyboard.press('Enter')
    await page.waitForURL(`${server.url}/account`)
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Your account')
    await assertAccessible(page)
    // From the top of the page, the skip link comes first and leads to the content.
    await page.keyboard.press('Tab')
    assert.equal(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement
            .textContent,
      ),
      'Skip to main content',
    )
    await assertNoProblems(watched)
  })

  it('ties errors to their fields and focuses the first, and says the same for every wrong credential', async (t) => {
    const server = await startPageServer(t)
    const user = await registerUser(server)
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    await page.goto(`${server.url}/login`)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    const username = page.getByLabel('Username')
    assert.equal(await username.getAttribute('aria-invalid'), 'true')
    assert.equal(await page.locator('#username-error').textContent(), 'Enter your username.')
    assert.match((await username.getAttribute('aria-describedby')) ?? '', /username-error/)
    assert.equal(
      await page.evaluate(
        () => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id,
      ),
      'username',
    )
    await assertAccessible(page)
    await username.fill(user.username)
    await page.getByLabel('Password', { exact: true }).fill('a wrong password for this one')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    const wrongPassword = await page.getByRole('alert').textContent()
    await page.getByLabel('Username').fill(uniqueUsername('nobody'))
    await page.getByLabel('Password', { exact: true }).fill('a wrong password for this one')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    assert.equal(await page.getByRole('alert').textContent(), wrongPassword)
    assert.match(wrongPassword ?? '', /The username or password is not correct/)
    await assertAccessible(page)
    await assertNoProblems(watched)
  })

  it('registers in Korean, chosen by Accept-Language, switches language with the visible control, and goes on to an allowed app', async (t) => {
    const app = await startAppOrigin(t)
    const server = await startPageServer(t, { TESSERA_ALLOWED_ORIGINS: app })
    const watched = await openWatchedPage(t, requireBrowser(), { locale: 'ko-KR' })
    const { page } = watched
    await page.goto(`${server.url}/register?return_to=${encodeURIComponent(`${app}/welcome`)}`)
    assert.equal(await page.getAttribute('html', 'lang'), 'ko')
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Tessera 계정 만들기')
    await assertAccessible(page)
    const username = uniqueUsername('korean')
    await page.getByLabel('사용자 이름').fill(username)
    await page.getByLabel('비밀번호', { exact: true }).fill('aaaaaaaaaaaaaaaa')
    await page.getByLabel('비밀번호 다시 입력').fill('aaaaaaaaaaaaaaaa')
    await page.getByRole('button', { name: '계정 만들기' }).click()
    assert.match((await page.locator('#password-error').textContent()) ?? '', /짧은 패턴을 되풀이/)
    await assertAccessible(page)
    await page.getByLabel('비밀번호', { exact: true }).fill(strongPassword)
    await page.getByLabel('비밀번호 다시 입력').fill(strongPassword)
    await page.getByRole('button', { name: '계정 만들기' }).click()
    // The account exists, the browser is signed in, and the app on the allowed origin is reached.
    await page.waitForURL(`${app}/welcome`)
    assert.equal((await server.request('/v1/auth/login', { body: { username, password: strongPassword } })).status, 200)
    await page.goto(`${server.url}/account`)
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), '내 계정')
    await page.getByRole('link', { name: 'English' }).click()
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Your account')
    await page.goto(`${server.url}/account/sessions`)
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the choice is kept')
    await assertNoProblems(watched)
  })
})

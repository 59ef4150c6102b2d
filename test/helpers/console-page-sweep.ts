/**
 * The sweep of every admin console page in a real Chromium, in one language: each page is
 * served in that language and has no CSP violation, script error or serious axe-core finding.
 * One test file per language, so that the languages run side by side.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { launchChromium, skipUnlessChromium } from './browser.ts'
import {
  assertAccessible,
  assertNoProblems,
  createAdmin,
  openWatchedPage,
  signInThroughForm,
  startPageServer,
} from './page-browser.ts'
import { registerUser } from './test-server.ts'

export function describeConsolePageSweep(locale: 'en-US' | 'ko-KR', language: string): void {
  let browser: Browser | null = null

  describe(`admin console pages in ${language}, in Chromium`, { skip: skipUnlessChromium() }, () => {
    before(async () => {
      browser = await launchChromium()
    })
    after(() => browser?.close())

    it(`every console page, in ${language}, has no CSP violation and no serious accessibility finding`, async (t) => {
      if (browser === null) throw new TypeError('the browser is not started')
      const server = await startPageServer(t)
      const admin = await createAdmin(server)
      const user = await registerUser(server)
      await server.application.tokenAdmin.createServiceClient('reporting', {
        actorUserId: admin.id,
        context: { ip: null, userAgent: 'test', requestId: null },
      })
      const paths = [
        '/admin/users',
        `/admin/users/${user.id}`,
        '/admin/audit',
        '/admin/alerts',
        '/admin/keys',
        '/admin/keys/emergency',
        '/admin/clients',
        '/account',
        '/account/password',
        '/account/sessions',
      ]
      const watched = await openWatchedPage(t, browser, { locale })
      const { page } = watched
      await signInThroughForm(page, server, admin.username)
      for (const path of paths) {
        await page.goto(`${server.url}${path}`)
        assert.equal(await page.getAttribute('html', 'lang'), locale.slice(0, 2), path)
        await assertAccessible(page)
      }
      await assertNoProblems(watched)
    })
  })
}

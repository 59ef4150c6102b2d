/**
 * Every admin console page in a real Chromium, in English and in Korean, checked for CSP
 * violations and serious axe-core findings.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { launchChromium, skipUnlessChromium } from '../helpers/browser.ts'
import {
  assertAccessible,
  assertNoProblems,
  createAdmin,
  openWatchedPage,
  signInThroughForm,
  startPageServer,
} from '../helpers/page-browser.ts'
import { registerUser } from '../helpers/test-server.ts'

let browser: Browser | null = null

function requireBrowser(): Browser {
  if (browser === null) throw new TypeError('the browser is not started')
  return browser
}

describe('admin console pages in Chromium', { skip: skipUnlessChromium() }, () => {
  before(async () => {
    browser = await launchChromium()
  })
  after(() => browser?.close())

  it('every console page, in English and in Korean, has no CSP violation and no serious accessibility finding', async (t) => {
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
    for (const locale of ['en-US', 'ko-KR']) {
      const watched = await openWatchedPage(t, requireBrowser(), { locale })
      const { page } = watched
      await signInThroughForm(page, server, admin.username)
      for (const path of paths) {
        await page.goto(`${server.url}${path}`)
        assert.equal(await page.getAttribute('html', 'lang'), locale.slice(0, 2), path)
        await assertAccessible(page)
      }
      await assertNoProblems(watched)
    }
  })
})

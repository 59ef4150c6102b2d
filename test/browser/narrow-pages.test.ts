/**
 * Every page at a phone's width (375 px) and at a desktop's, in Korean (the longer dates and
 * labels): nothing makes the page scroll sideways, and the events tables fit their cards rather
 * than hiding their last columns behind a scroll bar.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, skipUnlessChromium } from '../helpers/browser.ts'
import { createAdmin, pageActionTimeoutMs, startPageServer } from '../helpers/page-browser.ts'
import { registerUser, strongPassword } from '../helpers/test-server.ts'

let browser: Browser | null = null

type LayoutGlobals = typeof globalThis & {
  document: {
    documentElement: { scrollWidth: number; clientWidth: number }
    querySelectorAll(selector: string): Iterable<{ scrollWidth: number; clientWidth: number }>
  }
}

/** How far the page, and each events table, reach past their width (0 when they fit). */
function measureOverflow(page: Page): Promise<{ page: number; eventTables: number[] }> {
  return page.evaluate(() => {
    const { document } = globalThis as LayoutGlobals
    const root = document.documentElement
    return {
      page: Math.max(0, root.scrollWidth - root.clientWidth),
      eventTables: [...document.querySelectorAll('.table-wrap:has(table.events)')].map((wrap) =>
        Math.max(0, wrap.scrollWidth - wrap.clientWidth),
      ),
    }
  })
}

describe("pages at a phone's width, in Chromium", { skip: skipUnlessChromium() }, () => {
  before(async () => {
    browser = await launchChromium()
  })
  after(() => browser?.close())

  it('no page scrolls sideways at 375 px or 1200 px, and events tables fit their card', async (t) => {
    const server = await startPageServer(t)
    const admin = await createAdmin(server)
    const user = await registerUser(server)
    // Events with long details, on the user's page and in the trail.
    await server.application.accountAdmin.replaceUserRoles(user.id, ['user', 'moderator', 'support-team-lead'], {
      actorUserId: admin.id,
      context: { ip: '2001:db8:85a3::8a2e:370:7334', userAgent: 'test', requestId: null },
    })
    if (browser === null) throw new TypeError('the browser is not started')
    const context = await browser.newContext({ locale: 'ko-KR', viewport: { width: 375, height: 740 } })
    t.after(() => context.close())
    const page = await context.newPage()
    page.setDefaultTimeout(pageActionTimeoutMs)
    await page.goto(`${server.url}/login`)
    await page.locator('#username').fill(admin.username)
    await page.locator('#password').fill(strongPassword)
    await page.locator('main form[action="/login"] button[type="submit"]').click()
    await page.waitForURL(`${server.url}/account`)
    const paths = [
      '/account',
      '/account/password',
      '/account/sessions',
      '/account/second-factor',
      '/account/passkeys',
      '/account/reauthenticate?return_to=%2Faccount',
      '/admin/users',
      `/admin/users/${user.id}`,
      '/admin/audit',
      '/admin/alerts',
      '/admin/keys',
      '/admin/keys/emergency',
      '/admin/clients',
    ]
    const found: string[] = []
    for (const width of [375, 1200]) {
      await page.setViewportSize({ width, height: 800 })
      for (const path of paths) {
        await page.goto(`${server.url}${path}`)
        const overflow = await measureOverflow(page)
        if (overflow.page > 0) found.push(`${width}px ${path}: the page is ${overflow.page}px too wide`)
        overflow.eventTables.forEach((excess, index) => {
          if (excess > 0) found.push(`${width}px ${path}: events table ${index} hides ${excess}px`)
        })
      }
    }
    // The visitor's pages, signed out.
    const visitor = await browser.newContext({ locale: 'ko-KR', viewport: { width: 375, height: 740 } })
    t.after(() => visitor.close())
    const visitorPage = await visitor.newPage()
    for (const path of ['/login', '/register']) {
      await visitorPage.goto(`${server.url}${path}`)
      const overflow = await measureOverflow(visitorPage)
      if (overflow.page > 0) found.push(`375px ${path}: the page is ${overflow.page}px too wide`)
    }
    assert.deepEqual(found, [])
  })
})

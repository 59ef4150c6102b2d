/**
 * `npm run screenshots [directory]`: every hosted page and console page, in English and in
 * Korean, as PNG files (default ./screenshots/). It starts Tessera on an in-memory database with
 * some made-up users, sessions, failed sign-ins and alerts, and drives Debian's Chromium. Korean
 * text needs a Korean font on the machine (apt-get install fonts-nanum or fonts-noto-cjk).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import type { TestContext } from 'node:test'
import { launchChromium } from '../test/helpers/browser.ts'
import { createAdmin, signInThroughForm, startPageServer } from '../test/helpers/page-browser.ts'
import { startTestSmtpServer } from '../test/helpers/smtp-server.ts'
import { strongPassword, type TestServer } from '../test/helpers/test-server.ts'

const outputDir = resolve(process.argv[2] ?? 'screenshots')
const cleanups: Array<() => unknown> = []
// The test helpers only need somewhere to register their clean-up.
const scope = { after: (cleanup: () => unknown) => void cleanups.push(cleanup) } as unknown as TestContext

const devices = {
  phone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  laptop: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
  game: 'StarHarbor/2.3.1 (Windows; x64)',
}

async function seed(server: TestServer) {
  const { application, clock } = server
  const admin = await createAdmin(server, 'mina')
  const context = (ip: string, userAgent: string) => ({ ip, userAgent, requestId: null })
  const names = ['jisoo', 'alex_kim', 'player_one', 'haneul', 'sam.lee']
  const users = []
  for (const username of names) users.push(await application.signIn.register({ username, password: strongPassword }, context('198.51.100.7', devices.laptop)))
  await application.accountAdmin.replaceUserRoles(users[0]?.id ?? '', ['user', 'moderator'], { actorUserId: admin.id, context: context('192.0.2.10', devices.laptop) })
  for (const [ip, userAgent] of [['203.0.113.24', devices.phone], ['198.51.100.7', devices.laptop], ['192.0.2.55', devices.game]] as const) {
    await application.signIn.signIn({ username: 'mina', password: strongPassword, transport: 'token', ...context(ip, userAgent) })
  }
  // A day of failed sign-ins, a few an hour and a burst on one account three hours ago.
  const now = clock.now()
  for (let hoursAgo = 23; hoursAgo >= 0; hoursAgo -= 1) {
    clock.set(new Date(now.getTime() - hoursAgo * 3600_000))
    const failures = hoursAgo === 3 ? 14 : (hoursAgo * 7) % 4
    for (let attempt = 0; attempt < failures; attempt += 1) {
      await application.signIn
        .signIn({ username: hoursAgo === 3 ? 'haneul' : `guess${attempt}`, password: 'wrong password again', transport: 'token', ...context(`203.0.113.${100 + attempt}`, 'python-requests/2.31') })
        .catch(() => undefined)
    }
    if (hoursAgo === 3) await application.maintenance.runReview(clock.now())
  }
  clock.set(now)
  await application.tokenAdmin.createServiceClient('game-server', { actorUserId: admin.id, context: context('192.0.2.10', devices.laptop) })
  await application.tokenAdmin.createServiceClient('leaderboard', { actorUserId: admin.id, context: context('192.0.2.10', devices.laptop) })
  return { admin, users }
}

async function main(): Promise<void> {
  mkdirSync(outputDir, { recursive: true })
  try {
    if (execFileSync('fc-list', [':lang=ko'], { encoding: 'utf8' }).trim() === '') {
      process.stderr.write('screenshots: no Korean font is installed; Korean pages will show boxes (apt-get install fonts-nanum)\n')
    }
  } catch {
    // fc-list is missing: nothing to tell.
  }
  // A relay in the process, so the pages of a forgotten password show their forms.
  const smtp = await startTestSmtpServer(scope)
  const server = await startPageServer(scope, { TESSERA_SMTP_URL: smtp.url, TESSERA_MAIL_FROM: 'no-reply@tessera.test' }, { clockStart: new Date() })
  const { users } = await seed(server)
  const browser = await launchChromium()
  cleanups.push(() => browser.close())
  const shots: Array<[string, string, ((page: import('playwright-core').Page) => Promise<void>)?]> = [
    ['account', '/account'],
    ['account-password', '/account/password'],
    ['account-sessions', '/account/sessions'],
    ['admin-users', '/admin/users'],
    ['admin-user', `/admin/users/${users[0]?.id ?? ''}`],
    ['admin-audit', '/admin/audit'],
    ['admin-alerts', '/admin/alerts'],
    ['admin-keys', '/admin/keys'],
    ['admin-keys-emergency', '/admin/keys/emergency'],
    ['admin-clients', '/admin/clients'],
    ['admin-client-created', '/admin/clients', async (page) => {
      await page.locator('#name').fill(`reporting-${page.url().length % 100}${Date.now() % 1000}`)
      await page.locator('#name').press('Enter')
      await page.waitForLoadState()
    }],
  ]
  const written: string[] = []
  for (const language of ['en', 'ko'] as const) {
    const context = await browser.newContext({ locale: language === 'ko' ? 'ko-KR' : 'en-US', viewport: { width: 1200, height: 800 } })
    const page = await context.newPage()
    const capture = async (name: string) => {
      const file = resolve(outputDir, `${name}.${language}.png`)
      await page.screenshot({ path: file, fullPage: true })
      written.push(file)
    }
    await page.goto(`${server.url}/login`)
    await capture('sign-in')
    await page.locator('#username').fill('mina')
    await page.locator('#password').fill('not the password')
    await page.locator('main button[type="submit"]').click()
    await capture('sign-in-error')
    await page.goto(`${server.url}/register`)
    await capture('register')
    await page.locator('main button[type="submit"]').click()
    await capture('register-errors')
    await page.goto(`${server.url}/forgot-password`)
    await capture('forgot-password')
    await page.goto(`${server.url}/password-reset#token=an-example-token`)
    await capture('password-reset')
    await signInThroughForm(page, server, 'mina')
    for (const [name, path, act] of shots) {
      await page.goto(`${server.url}${path}`)
      if (act) await act(page)
      await capture(name)
    }
    await page.goto(`${server.url}/admin/no-such-page-here`).catch(() => undefined)
    await context.close()
  }
  process.stdout.write(`${written.length} screenshots in ${outputDir}\n`)
}

try {
  await main()
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup()
}

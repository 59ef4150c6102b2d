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
import type { Page } from 'playwright-core'
import { decodeBase32 } from '../src/core/second-factor/totp.ts'
import { launchChromium } from '../test/helpers/browser.ts'
import { describeTotp, enrolTotp } from '../test/helpers/second-factor.ts'
import { createAdmin, signInThroughForm, startPageServer } from '../test/helpers/page-browser.ts'
import { startTestSmtpServer } from '../test/helpers/smtp-server.ts'
import { strongPassword, type TestServer } from '../test/helpers/test-server.ts'

const outputDir = resolve(process.argv[2] ?? 'screenshots')
const cleanups: Array<() => unknown> = []
// The test helpers only need somewhere to register their clean-up.
const scope = { after: (cleanup: () => unknown) => void cleanups.push(cleanup) } as unknown as TestContext

const devices = {
  phone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  laptop:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
  game: 'StarHarbor/2.3.1 (Windows; x64)',
}

async function seed(server: TestServer) {
  const { application, clock } = server
  const admin = await createAdmin(server, 'mina')
  const context = (ip: string, userAgent: string) => ({ ip, userAgent, requestId: null })
  const names = ['jisoo', 'alex_kim', 'player_one', 'haneul', 'sam.lee']
  const users = []
  for (const username of names)
    users.push(
      await application.signIn.register(
        { username, password: strongPassword },
        context('198.51.100.7', devices.laptop),
      ),
    )
  await application.accountAdmin.replaceUserRoles(users[0]?.id ?? '', ['user', 'moderator'], {
    actorUserId: admin.id,
    context: context('192.0.2.10', devices.laptop),
  })
  for (const [ip, userAgent] of [
    ['203.0.113.24', devices.phone],
    ['198.51.100.7', devices.laptop],
    ['192.0.2.55', devices.game],
  ] as const) {
    await application.signIn.signIn({
      username: 'mina',
      password: strongPassword,
      transport: 'token',
      ...context(ip, userAgent),
    })
  }
  // A day of failed sign-ins, a few an hour and a burst on one account three hours ago.
  const now = clock.now()
  for (let hoursAgo = 23; hoursAgo >= 0; hoursAgo -= 1) {
    clock.set(new Date(now.getTime() - hoursAgo * 3600_000))
    const failures = hoursAgo === 3 ? 14 : (hoursAgo * 7) % 4
    for (let attempt = 0; attempt < failures; attempt += 1) {
      await application.signIn
        .signIn({
          username: hoursAgo === 3 ? 'haneul' : `guess${attempt}`,
          password: 'wrong password again',
          transport: 'token',
          ...context(`203.0.113.${100 + attempt}`, 'python-requests/2.31'),
        })
        .catch(() => undefined)
    }
    if (hoursAgo === 3) await application.maintenance.runReview(clock.now())
  }
  clock.set(now)
  // An account with an authenticator app, for the second step of the sign-in.
  const signedIn = await server.request('/v1/auth/login', { body: { username: 'alex_kim', password: strongPassword } })
  await enrolTotp(server, { bearer: signedIn.json.access_token })
  await application.tokenAdmin.createServiceClient('game-server', {
    actorUserId: admin.id,
    context: context('192.0.2.10', devices.laptop),
  })
  await application.tokenAdmin.createServiceClient('leaderboard', {
    actorUserId: admin.id,
    context: context('192.0.2.10', devices.laptop),
  })
  return { admin, users }
}

/** The account's second factor, set up and turned off again (so the next language starts alike). */
async function captureSecondFactorOf(
  server: TestServer,
  page: Page,
  capture: (name: string) => Promise<void>,
): Promise<void> {
  await page.goto(`${server.url}/account/second-factor`)
  await capture('account-second-factor')
  await page.locator('form[action="/account/second-factor/totp"] button').click()
  await page.waitForLoadState()
  await capture('account-totp-setup')
  const key = ((await page.locator('output.key').textContent()) ?? '').replace(/\s/g, '')
  await page.locator('#code').fill(describeTotp(server, decodeBase32(key))())
  await page.locator('form[action="/account/second-factor/totp/confirm"] button').click()
  await page.waitForLoadState()
  await capture('account-recovery-codes')
  await page.goto(`${server.url}/account/second-factor`)
  await capture('account-second-factor-on')
  await page.goto(`${server.url}/account/reauthenticate?return_to=%2Faccount%2Fsecond-factor`)
  await capture('account-reauthenticate')
  await page.goto(`${server.url}/account/passkeys`)
  await capture('account-passkeys')
  await page.goto(`${server.url}/account/second-factor`)
  await page.locator('form[action="/account/second-factor/disable"] button').click()
  await page.waitForLoadState()
  server.clock.advanceSeconds(30)
}

async function main(): Promise<void> {
  mkdirSync(outputDir, { recursive: true })
  try {
    if (execFileSync('fc-list', [':lang=ko'], { encoding: 'utf8' }).trim() === '') {
      process.stderr.write(
        'screenshots: no Korean font is installed; Korean pages will show boxes (apt-get install fonts-nanum)\n',
      )
    }
  } catch {
    // fc-list is missing: nothing to tell.
  }
  // A relay in the process, so the pages of a forgotten password show their forms.
  const smtp = await startTestSmtpServer(scope)
  const server = await startPageServer(
    scope,
    { TESSERA_SMTP_URL: smtp.url, TESSERA_MAIL_FROM: 'no-reply@tessera.test' },
    { clockStart: new Date() },
  )
  const { users } = await seed(server)
  const captureSecondFactor = (page: Page, capture: (name: string) => Promise<void>) =>
    captureSecondFactorOf(server, page, capture)
  const browser = await launchChromium()
  cleanups.push(() => browser.close())
  const shots: Array<[string, string, ((page: import('playwright-core').Page) => Promise<void>)?]> = [
    ['account', '/account'],
    ['account-password', '/account/password'],
    ['account-sessions', '/account/sessions'],
    ['admin-users', '/admin/users'],
    ['admin-users-found', '/admin/users?q=ha'],
    ['admin-user', `/admin/users/${users[0]?.id ?? ''}`],
    ['admin-audit', '/admin/audit'],
    ['admin-alerts', '/admin/alerts'],
    ['admin-keys', '/admin/keys'],
    ['admin-keys-emergency', '/admin/keys/emergency'],
    ['admin-clients', '/admin/clients'],
    [
      'admin-client-created',
      '/admin/clients',
      async (page) => {
        await page.locator('#name').fill(`reporting-${page.url().length % 100}${Date.now() % 1000}`)
        await page.locator('#name').press('Enter')
        await page.waitForLoadState()
      },
    ],
  ]
  const written: string[] = []
  for (const language of ['en', 'ko'] as const) {
    const context = await browser.newContext({
      locale: language === 'ko' ? 'ko-KR' : 'en-US',
      viewport: { width: 1200, height: 800 },
    })
    const page = await context.newPage()
    const captureOf = (shown: Page) => async (name: string) => {
      const file = resolve(outputDir, `${name}.${language}.png`)
      await shown.screenshot({ path: file, fullPage: true })
      written.push(file)
    }
    const capture = captureOf(page)
    await page.goto(`${server.url}/login`)
    await capture('sign-in')
    await page.locator('#username').fill('mina')
    await page.locator('#password').fill('not the password')
    await page.locator('main form[action="/login"] button[type="submit"]').click()
    await capture('sign-in-error')
    await page.goto(`${server.url}/register`)
    await capture('register')
    await page.locator('main form[action="/register"] button[type="submit"]').click()
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
    await captureSecondFactor(page, capture)
    await page.setViewportSize({ width: 375, height: 740 })
    for (const [name, path] of [
      ['phone-account-sessions', '/account/sessions'],
      ['phone-admin-user', `/admin/users/${users[0]?.id ?? ''}`],
    ] as const) {
      await page.goto(`${server.url}${path}`)
      await capture(name)
    }
    await page.goto(`${server.url}/admin/no-such-page-here`).catch(() => undefined)
    // The second step of a sign-in, in a browser of its own.
    const visitor = await browser.newContext({
      locale: language === 'ko' ? 'ko-KR' : 'en-US',
      viewport: { width: 1200, height: 800 },
    })
    const visitorPage = await visitor.newPage()
    await visitorPage.goto(`${server.url}/login`)
    await visitorPage.locator('#username').fill('alex_kim')
    await visitorPage.locator('#password').fill(strongPassword)
    await visitorPage.locator('main form[action="/login"] button[type="submit"]').click()
    await captureOf(visitorPage)('sign-in-second-step')
    await visitorPage.locator('#code').fill('000000')
    await visitorPage.locator('main form[action="/login/second-step"] button[type="submit"]').first().click()
    await captureOf(visitorPage)('sign-in-second-step-error')
    await visitor.close()
    await context.close()
  }
  process.stdout.write(`${written.length} screenshots in ${outputDir}\n`)
}

try {
  await main()
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup()
}

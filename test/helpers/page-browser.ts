/**
 * The hosted pages in a real Chromium: a test server that knows its own public URL (so the
 * browser's Origin header is the allowed one), tabs that count every Content-Security-Policy
 * violation and script error as a failure, and axe-core run inside the page.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { TestContext } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { openBrowserContext } from './browser.ts'
import { findFreePort } from './redis.ts'
import { startTestServer, strongPassword, type TestServer } from './test-server.ts'

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** A test server whose TESSERA_PUBLIC_URL is the address it listens on. */
export async function startPageServer(
  t: TestContext,
  env: Record<string, string> = {},
  options: { clockStart?: Date } = {},
): Promise<TestServer> {
  const port = await findFreePort()
  return startTestServer(t, { TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}`, ...env }, { ...options, port })
}

/**
 * How long a tab waits for an element, a navigation or a script. Pages answer in milliseconds
 * here, so this is no grace for a slow page: a missing element is a failure either way. It allows
 * for Chromium sharing the machine with the other test files running beside it.
 */
export const pageActionTimeoutMs = 30_000

export interface WatchedPage {
  page: Page
  context: BrowserContext
  /** CSP violations and uncaught script errors seen so far. */
  problems(): string[]
}

/** The few DOM globals used here (the type check of tests has no DOM). */
type ViolationGlobals = typeof globalThis & {
  __cspViolations?: string[]
  document: {
    addEventListener(
      type: 'securitypolicyviolation',
      listener: (event: { violatedDirective: string; blockedURI: string }) => void,
    ): void
  }
}

/** A tab (in a fresh context unless one is given) whose CSP violations and script errors are collected. */
export async function openWatchedPage(
  t: TestContext,
  browser: Browser,
  options: { locale?: string; context?: BrowserContext } = {},
): Promise<WatchedPage> {
  const context = options.context ?? (await openBrowserContextWithLocale(t, browser, options.locale ?? 'en-US'))
  const page = await context.newPage()
  page.setDefaultTimeout(pageActionTimeoutMs)
  const seen: string[] = []
  await page.addInitScript(() => {
    const globals = globalThis as ViolationGlobals
    globals.__cspViolations = []
    globals.document.addEventListener('securitypolicyviolation', (event) => {
      globals.__cspViolations?.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`)
    })
  })
  page.on('console', (message) => {
    if (/Content.Security.Policy|Refused to|TrustedHTML|TrustedScript/i.test(message.text()))
      seen.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => seen.push(`script error: ${error.message}`))
  return {
    page,
    context,
    problems: () => seen,
  }
}

async function openBrowserContextWithLocale(t: TestContext, browser: Browser, locale: string): Promise<BrowserContext> {
  if (locale === 'en-US') return openBrowserContext(t, browser)
  const context = await browser.newContext({ locale })
  t.after(() => context.close())
  return context
}

/** The violations the page itself recorded (securitypolicyviolation events), plus console ones. */
export async function collectProblems(watched: WatchedPage): Promise<string[]> {
  const inPage = await watched.page.evaluate(() => (globalThis as ViolationGlobals).__cspViolations ?? [])
  return [...inPage, ...watched.problems()]
}

export async function assertNoProblems(watched: WatchedPage): Promise<void> {
  assert.deepEqual(await collectProblems(watched), [], `CSP violations or script errors on ${watched.page.url()}`)
}

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: number
}

type AxeGlobals = typeof globalThis & {
  document: unknown
  axe: {
    run(
      context: unknown,
      options: unknown,
    ): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: unknown[] }> }>
  }
}

/**
 * axe-core's WCAG 2.x A and AA rules on the current page. The engine is evaluated through the
 * DevTools protocol, which the page's CSP does not govern (the page itself could not load it).
 */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource)
  return page.evaluate(async () => {
    const globals = globalThis as AxeGlobals
    const result = await globals.axe.run(globals.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    })
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.length,
    }))
  })
}

/** Fails on any serious or critical axe violation. */
export async function assertAccessible(page: Page): Promise<AxeViolation[]> {
  const violations = await runAxe(page)
  const severe = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
  assert.deepEqual(severe, [], `serious accessibility violations on ${page.url()}`)
  return violations
}

/**
 * Fills in and sends the sign-in form, as a person would (in whichever language the page speaks),
 * without waiting for where it leads: for a sign-in that is sent elsewhere than the account page.
 */
export async function submitSignInForm(
  page: Page,
  server: TestServer,
  username: string,
  password = strongPassword,
): Promise<void> {
  await page.goto(`${server.url}/login`)
  await page.locator('#username').fill(username)
  await page.locator('#password').fill(password)
  await page.locator('main form[action="/login"] button[type="submit"]').click()
}

/** Signs in through the sign-in form and waits for the account page it leads to. */
export async function signInThroughForm(
  page: Page,
  server: TestServer,
  username: string,
  password = strongPassword,
): Promise<void> {
  await submitSignInForm(page, server, username, password)
  await page.waitForURL(`${server.url}/account`)
}

/** An account with the admin role, made through the application (as the CLI makes the first one). */
export async function createAdmin(
  server: TestServer,
  username = 'root_admin',
): Promise<{ id: string; username: string }> {
  const { createOfflineContext } = await import('../../src/core/application/types.ts')
  const user = await server.application.accountAdmin.createUser(
    { username, password: strongPassword, roles: ['admin', 'user'] },
    { actorUserId: null, context: createOfflineContext('cli') },
  )
  return { id: user.id, username: user.username }
}

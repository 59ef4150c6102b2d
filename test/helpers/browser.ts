/**
 * A real Chromium for tests: Debian's `chromium`, driven by playwright-core (which never
 * downloads a browser of its own), one fresh profile per test file and a fresh context per test. When the program is absent the
 * browser tests are skipped, loudly; with TESSERA_TEST_REQUIRE_BROWSER=1 (as CI sets it) its
 * absence is a failure instead.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, it, type TestContext } from 'node:test'
import { chromium, type Browser, type BrowserContext } from 'playwright-core'

export const chromiumPath = process.env.TESSERA_TEST_CHROMIUM ?? '/usr/bin/chromium'
const isRequired = process.env.TESSERA_TEST_REQUIRE_BROWSER === '1'

const launchFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * The reason to skip the browser tests, or false. Absent and required: a failing test says what
 * is missing. Absent and optional: a warning on stderr.
 */
export function skipUnlessChromium(): string | false {
  if (existsSync(chromiumPath)) return false
  const problem = `${chromiumPath} is not installed (apt-get install chromium)`
  if (isRequired) {
    it(`Chromium is available (TESSERA_TEST_REQUIRE_BROWSER=1): ${problem}`, () => assert.fail(problem))
    return `${problem}; required`
  }
  process.stderr.write(
    `\n*** SKIPPING browser tests: ${problem}. Set TESSERA_TEST_REQUIRE_BROWSER=1 to make this a failure. ***\n\n`,
  )
  return problem
}

/**
 * Starts Chromium on a fresh profile of its own (playwright-core makes a temporary
 * --user-data-dir and removes it on close). Close it when the tests are done.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: launchFlags, timeout: 60_000 })
}

/**
 * One Chromium shared by the tests of a suite: `startForSuite()`, called in the suite, launches it
 * before its tests and closes it after them; `require()` hands it to a test (or a helper of one).
 */
export function createSharedChromium(): { startForSuite(): void; require(): Browser } {
  let browser: Browser | null = null
  return {
    startForSuite() {
      before(async () => {
        browser = await launchChromium()
      })
      after(() => browser?.close())
    },
    require() {
      if (browser === null) throw new TypeError('the browser is not started')
      return browser
    },
  }
}

/**
 * A fresh browsing context of `browser` (no cookies, storage or cache of other tests); its tabs
 * (`context.newPage()`) share storage, locks and broadcast channels, as the tabs of one
 * person's browser do. Closed after the test.
 */
export async function openBrowserContext(t: TestContext, browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext()
  t.after(() => context.close())
  return context
}

/**
 * `tessera/client` and CORS in a real Chromium, from pages on other origins than Tessera's
 * (http://127.0.0.1:<tessera port>):
 *
 * * http://localhost:<page port> is another *site* (a cross-site page, like play.example.net
 *   calling auth.example.com): token transport works through CORS; the SameSite=Lax session
 *   cookie does not.
 * * http://127.0.0.1:<page port> is another origin of the *same site* (like app.example.com
 *   calling auth.example.com): the cookie transport works too.
 * * http://127.0.0.1:<other port>, not listed in TESSERA_ALLOWED_ORIGINS, can read nothing.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it, type TestContext } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import type * as TesseraClientModule from 'tessera/client'
import { launchChromium, openBrowserContext, skipUnlessChromium } from '../helpers/browser.ts'
import { startSdkPageServer, type PageServer } from '../helpers/sdk-page-server.ts'
import { startTestServer, strongPassword, type TestServer } from '../helpers/test-server.ts'

/** The SDK as the test page exposes it, and the few DOM globals used here (the type check has no DOM). */
type PageGlobals = typeof globalThis & {
  tessera: typeof TesseraClientModule
  document: { title: string; cookie: string }
  location: { origin: string }
}

interface Scene {
  server: TestServer
  pages: PageServer
  unlisted: PageServer
}

async function setUpScene(t: TestContext): Promise<Scene> {
  const pages = await startSdkPageServer(t)
  const unlisted = await startSdkPageServer(t)
  const server = await startTestServer(t, {
    TESSERA_ALLOWED_ORIGINS: `${pages.pageUrl('localhost').slice(0, -1)},${pages.pageUrl('127.0.0.1').slice(0, -1)}`,
  })
  return { server, pages, unlisted }
}

let browser: Browser | null = null

async function openSdkPage(t: TestContext, url: string, page?: Page): Promise<Page> {
  if (browser === null) throw new TypeError('the browser is not started')
  const tab = page ?? (await (await openBrowserContext(t, browser)).newPage())
  await tab.goto(url)
  await tab.waitForFunction(() => (globalThis as PageGlobals).document.title === 'ready')
  return tab
}

async function countRefreshEvents(server: TestServer, userId: string) {
  const page = await server.application.auditTrail.queryEvents(
    { userId, types: ['token_refreshed'] },
    { after: null, limit: 100 },
  )
  const grace = page.events.filter((event) => event.details.grace === true).length
  return { rotations: page.events.length - grace, grace }
}

/** The user's sessions that are alive now, as the user's own session list shows them. */
function liveSessionsOf(server: TestServer, userId: string) {
  return server.application.mySessions.listMySessions({ userId, sessionId: '' })
}

describe('tessera/client in Chromium', { skip: skipUnlessChromium() }, () => {
  before(async () => {
    browser = await launchChromium()
  })
  after(() => browser?.close())

  it('a page on another site signs in with tokens through CORS, uses the session and signs out', async (t) => {
    const { server, pages } = await setUpScene(t)
    const tab = await openSdkPage(t, pages.pageUrl('localhost'))
    const result = await tab.evaluate(
      async ({ baseUrl, password }) => {
        const { createTesseraClient } = (globalThis as PageGlobals).tessera
        const client = createTesseraClient({ baseUrl })
        const ends: string[] = []
        client.onSessionEnd((event) => ends.push(event.reason))
        const user = await client.register({ username: 'page_user', password })
        const signedIn = await client.signIn({ username: 'page_user', password })
        const me = await client.me()
        const sessions = await client.sessions.list()
        const viaFetch = await client.fetch(`${baseUrl}/v1/me`)
        await client.signOut()
        let afterSignOut = ''
        try {
          await client.me()
        } catch (error) {
          afterSignOut = (error as { code: string }).code
        }
        return {
          userId: user.id,
          sessionId: signedIn.sessionId,
          meSessionId: me.sessionId,
          sessions: sessions.length,
          viaFetch: viaFetch.status,
          ends,
          afterSignOut,
          origin: (globalThis as PageGlobals).location.origin,
        }
      },
      { baseUrl: server.url, password: strongPassword },
    )
    assert.equal(result.origin, pages.pageUrl('localhost').slice(0, -1))
    assert.equal(result.meSessionId, result.sessionId)
    assert.equal(result.sessions, 1)
    assert.equal(result.viaFetch, 200)
    assert.deepEqual(result.ends, ['signed_out'])
    assert.equal(result.afterSignOut, 'not_signed_in')
    assert.equal((await liveSessionsOf(server, result.userId)).length, 0)
  })

  it('a page on an origin that is not listed can neither send JSON to Tessera nor read its answers', async (t) => {
    const { server, unlisted } = await setUpScene(t)
    const tab = await openSdkPage(t, unlisted.pageUrl('127.0.0.1'))
    const codes = await tab.evaluate(
      async ({ baseUrl, password }) => {
        const { createTesseraClient, TesseraError } = (globalThis as PageGlobals).tessera
        const client = createTesseraClient({ baseUrl })
        const codeOf = async (call: () => Promise<unknown>) => {
          try {
            await call()
            return 'ok'
          } catch (error) {
            return error instanceof TesseraError ? error.code : String(error)
          }
        }
        return {
          register: await codeOf(() => client.register({ username: 'stranger', password })),
          readJwks: await codeOf(() => fetch(`${baseUrl}/.well-known/jwks.json`)),
        }
      },
      { baseUrl: server.url, password: strongPassword },
    )
    assert.deepEqual(codes, { register: 'network_error', readJwks: 'TypeError: Failed to fetch' })
    // The preflight was refused, so the registration itself was never sent.
    assert.equal(await server.application.accountAdmin.findUserByUsername('stranger'), null)
  })

  it('a page on the same site uses the cookie transport and hands out a bearer token without a second sign-in', async (t) => {
    const { server, pages } = await setUpScene(t)
    const tab = await openSdkPage(t, pages.pageUrl('127.0.0.1'))
    const result = await tab.evaluate(
      async ({ baseUrl, password }) => {
        const { createTesseraClient } = (globalThis as PageGlobals).tessera
        const tokens = createTesseraClient({ baseUrl })
        await tokens.register({ username: 'cookie_user', password })
        const client = createTesseraClient({ baseUrl, transport: 'cookie' })
        const signedIn = await client.signIn({ username: 'cookie_user', password })
        const me = await client.me()
        const handed = await client.tokenFromCookieSession()
        // What a game client would do with the handed token: plain fetch, no cookie.
        const withToken = await fetch(`${baseUrl}/v1/me`, {
          headers: { authorization: `Bearer ${handed.accessToken}` },
        })
        const viaClientFetch = await client.fetch(`${baseUrl}/v1/sessions`)
        const cookieVisible = (globalThis as PageGlobals).document.cookie.includes('session')
        await client.signOut()
        const afterSignOut = await fetch(`${baseUrl}/v1/me`, {
          headers: { authorization: `Bearer ${handed.accessToken}` },
        })
        return {
          sessionId: signedIn.sessionId,
          meSessionId: me.sessionId,
          handedSessionId: handed.sessionId,
          withToken: withToken.status,
          viaClientFetch: viaClientFetch.status,
          cookieVisible,
          afterSignOut: afterSignOut.status,
        }
      },
      { baseUrl: server.url, password: strongPassword },
    )
    assert.equal(result.meSessionId, result.sessionId)
    assert.equal(result.handedSessionId, result.sessionId)
    assert.equal(result.withToken, 200)
    assert.equal(result.viaClientFetch, 200)
    assert.equal(result.cookieVisible, false)
    assert.equal(result.afterSignOut, 401)
  })

  it('a page on another site gets no cookie session: a cross-site request carries no SameSite=Lax cookie', async (t) => {
    const { server, pages } = await setUpScene(t)
    const tab = await openSdkPage(t, pages.pageUrl('localhost'))
    const result = await tab.evaluate(
      async ({ baseUrl, password }) => {
        const { createTesseraClient, TesseraError } = (globalThis as PageGlobals).tessera
        await createTesseraClient({ baseUrl }).register({ username: 'far_user', password })
        const client = createTesseraClient({ baseUrl, transport: 'cookie' })
        const signedIn = await client.signIn({ username: 'far_user', password })
        try {
          await client.me()
          return { signedIn: signedIn.sessionId, me: 'ok' }
        } catch (error) {
          return { signedIn: signedIn.sessionId, me: error instanceof TesseraError ? error.code : String(error) }
        }
      },
      { baseUrl: server.url, password: strongPassword },
    )
    assert.equal(typeof result.signedIn, 'string')
    assert.equal(result.me, 'unauthenticated')
  })

  it('two tabs refreshing at the same moment cause one rotation, and both keep the session', async (t) => {
    const { server, pages } = await setUpScene(t)
    if (browser === null) throw new TypeError('the browser is not started')
    const context = await openBrowserContext(t, browser)
    const url = pages.pageUrl('localhost')
    const [first, second] = [
      await openSdkPage(t, url, await context.newPage()),
      await openSdkPage(t, url, await context.newPage()),
    ]
    const userId = await first.evaluate(
      async ({ baseUrl, password }) => {
        const { createTesseraClient, localTokenStorage } = (globalThis as PageGlobals).tessera
        const client = createTesseraClient({ baseUrl, storage: localTokenStorage() })
        const user = await client.register({ username: 'two_tabs', password })
        await client.signIn({ username: 'two_tabs', password })
        return user.id
      },
      { baseUrl: server.url, password: strongPassword },
    )

    // Both tabs hold the shared session; its access token is due for replacement in both at once.
    const refreshTogether = (tab: Page, startAt: number) =>
      tab.evaluate(
        async ({ baseUrl, startAt }) => {
          const { createTesseraClient, localTokenStorage } = (globalThis as PageGlobals).tessera
          const globals = globalThis as PageGlobals & { client?: ReturnType<typeof createTesseraClient> }
          globals.client ??= createTesseraClient({ baseUrl, storage: localTokenStorage() })
          await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()))
          return (await globals.client.me()).sessionId
        },
        { baseUrl: server.url, startAt },
      )
    const makeStale = () =>
      first.evaluate(() => {
        const held = JSON.parse(localStorage.getItem('tessera-session') ?? 'null') as {
          refreshAt: number
          refreshToken: string
        }
        localStorage.setItem('tessera-session', JSON.stringify({ ...held, refreshAt: 0 }))
        return held.refreshToken
      })

    const firstToken = await makeStale()
    const startAt = Date.now() + 500
    const [one, two] = await Promise.all([refreshTogether(first, startAt), refreshTogether(second, startAt)])
    assert.equal(one, two)
    assert.deepEqual(await countRefreshEvents(server, userId), { rotations: 1, grace: 0 })

    // Past the grace window a spent refresh token would end the session: neither tab holds one.
    server.clock.advanceSeconds(server.config.tokens.refreshGraceSeconds + 1)
    const secondToken = await makeStale()
    assert.notEqual(secondToken, firstToken)
    const again = Date.now() + 500
    await Promise.all([refreshTogether(first, again), refreshTogether(second, again)])
    assert.deepEqual(await countRefreshEvents(server, userId), { rotations: 2, grace: 0 })
    assert.equal((await liveSessionsOf(server, userId)).length, 1)

    // Signing out in one tab tells the other at once.
    type TabGlobals = PageGlobals & { client?: TesseraClientModule.TesseraClient; heard?: Promise<string> }
    await second.evaluate(() => {
      const globals = globalThis as TabGlobals
      globals.heard = new Promise((resolve) =>
        globals.client?.onSessionEnd((event) => resolve(`${event.reason} ${event.isFromOtherTab}`)),
      )
    })
    await first.evaluate(() => (globalThis as TabGlobals).client?.signOut())
    assert.equal(await second.evaluate(() => (globalThis as TabGlobals).heard), 'signed_out true')
    assert.equal((await liveSessionsOf(server, userId)).length, 0)
  })
})

/**
 * The hosted pages over plain HTTP (as a browser without JavaScript, or a forger, sends them):
 * headers, CSRF defence, return_to, throttling and enumeration, languages, admin refusals.
 * Their flows in a real browser are in test/browser/.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { startPageServer } from '../helpers/page-browser.ts'
import {
  registerUser,
  logInWithCookie,
  strongPassword,
  startTestServer,
  uniqueUsername,
  type TestServer,
} from '../helpers/test-server.ts'

interface FormPage {
  status: number
  text: string
  token: string
  cookies: string
}

function readCookies(headers: Headers): string {
  return headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ')
}

async function openForm(server: TestServer, path: string, cookie = ''): Promise<FormPage> {
  const response = await fetch(`${server.url}${path}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' })
  const text = await response.text()
  const token = /name="csrf_token" value="([^"]+)"/.exec(text)?.[1] ?? ''
  const set = readCookies(response.headers)
  return { status: response.status, text, token, cookies: [cookie, set].filter(Boolean).join('; ') }
}

async function postForm(
  server: TestServer,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url, ...headers },
    body: new URLSearchParams(fields).toString(),
  })
}

async function signInThroughPage(server: TestServer, username: string, password = strongPassword, returnTo?: string) {
  const form = await openForm(server, '/login')
  return postForm(
    server,
    '/login',
    { csrf_token: form.token, username, password, ...(returnTo ? { return_to: returnTo } : {}) },
    { cookie: form.cookies },
  )
}

describe('hosted pages over HTTP', () => {
  it('serve pages under a strict CSP, uncached and unframeable, and assets for a year under hashed URLs', async (t) => {
    const server = await startPageServer(t, { TESSERA_ALLOWED_ORIGINS: 'https://app.example' })
    const page = await fetch(`${server.url}/login`)
    const csp = page.headers.get('content-security-policy') ?? ''
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/)
    assert.equal(page.headers.get('cache-control'), 'no-store')
    assert.match(csp, /default-src 'none'/)
    assert.match(csp, /script-src 'self'(;|$)/)
    assert.match(csp, /style-src 'self'(;|$)/)
    assert.match(csp, /frame-ancestors 'none'/)
    assert.match(csp, /form-action 'self' [^;]*https:\/\/app\.example/)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|nonce-/)
    const html = await page.text()
    assert.doesNotMatch(
      html,
      /<script>|<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=/i,
      'no inline script, style or handler',
    )
    const stylesheet = /href="(\/assets\/[^"]+\/web\/assets\/pages\.css)"/.exec(html)?.[1]
    assert.ok(stylesheet)
    const asset = await fetch(`${server.url}${stylesheet}`)
    assert.equal(asset.status, 200)
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable')
    assert.match(asset.headers.get('content-type') ?? '', /^text\/css/)
    const sdk = await fetch(`${server.url}${stylesheet.replace('web/assets/pages.css', 'client/index.ts')}`)
    assert.equal(sdk.status, 200)
    assert.match(sdk.headers.get('content-type') ?? '', /^text\/javascript/)
    assert.doesNotMatch(await sdk.text(), /import type|: string/, 'types are erased')
    assert.equal((await fetch(`${server.url}/assets/0000000000000000/web/assets/pages.css`)).status, 404)
    assert.equal((await fetch(`${server.url}${stylesheet.replace('pages.css', '../../config/load.ts')}`)).status, 404)
  })

  it('serve a logo file under the hashed URLs, and let only a logo on another origin widen the CSP', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-logo-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const logoFile = join(dir, 'logo.svg')
    const logo = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'
    writeFileSync(logoFile, logo)
    const server = await startPageServer(t, { TESSERA_PAGES_LOGO_FILE: logoFile })
    const page = await fetch(`${server.url}/login`)
    assert.match(page.headers.get('content-security-policy') ?? '', /img-src 'self'(;|$)/)
    const logoUrl = /<img src="(\/assets\/[^"]+\/logo)"/.exec(await page.text())?.[1]
    assert.ok(logoUrl, 'the page shows the logo')
    const served = await fetch(`${server.url}${logoUrl}`)
    assert.equal(served.status, 200)
    assert.match(served.headers.get('content-type') ?? '', /^image\/svg\+xml/)
    assert.equal(await served.text(), logo)

    const elsewhere = await startPageServer(t, { TESSERA_PAGES_LOGO_URL: 'https://cdn.example/brand/logo.png' })
    const other = await fetch(`${elsewhere.url}/login`)
    assert.match(other.headers.get('content-security-policy') ?? '', /img-src 'self' https:\/\/cdn\.example(;|$)/)
    assert.match(await other.text(), /<img src="https:\/\/cdn\.example\/brand\/logo\.png"/)
  })

  it("refuse a form without its token, with another browser's token, or from another site", async (t) => {
    const server = await startPageServer(t)
    const user = await registerUser(server)
    const form = await openForm(server, '/login')
    const other = await openForm(server, '/login')
    const credentials = { username: user.username, password: strongPassword }
    const refusals = [
      await postForm(server, '/login', credentials, { cookie: form.cookies }),
      await postForm(server, '/login', { ...credentials, csrf_token: other.token }, { cookie: form.cookies }),
      await postForm(server, '/login', { ...credentials, csrf_token: form.token }),
      await postForm(
        server,
        '/login',
        { ...credentials, csrf_token: form.token },
        { cookie: form.cookies, origin: 'https://evil.example' },
      ),
      await postForm(
        server,
        '/login',
        { ...credentials, csrf_token: form.token },
        { cookie: form.cookies, origin: 'null' },
      ),
      await postForm(
        server,
        '/login',
        { ...credentials, csrf_token: form.token },
        { cookie: form.cookies, origin: '', 'sec-fetch-site': 'cross-site' },
      ),
    ]
    for (const response of refusals) {
      assert.equal(response.status, 403)
      assert.equal(
        response.headers.getSetCookie().some((cookie) => cookie.startsWith('__Host-session=')),
        false,
      )
      assert.match(await response.text(), /sent from another site or has expired/)
    }
    // Refusals are counted per kind and minute: the first at once, the rest once the minute is over.
    server.clock.advanceSeconds(60)
    for (const sweep of server.application.maintenance.sweeps) await sweep.run()
    const denials = server.auditEvents.filter(
      (event) => event.type === 'access_denied' && event.reason === 'cross_site',
    )
    assert.equal(
      denials.reduce((total, event) => total + (Number(event.details.repeated) || 1), 0),
      refusals.length,
    )
    const accepted = await postForm(
      server,
      '/login',
      { ...credentials, csrf_token: form.token },
      { cookie: form.cookies },
    )
    assert.equal(accepted.status, 303)
    assert.equal(accepted.headers.get('location'), '/account')

    // Signed in, forms carry the session's token; a forged sign-out leaves the session alive.
    const session = readCookies(accepted.headers)
    const forged = await postForm(server, '/logout', { csrf_token: form.token }, { cookie: session })
    assert.equal(forged.status, 403)
    const crossSite = await postForm(
      server,
      '/logout',
      { csrf_token: 'x' },
      { cookie: session, origin: 'https://evil.example' },
    )
    assert.equal(crossSite.status, 403)
    assert.equal(
      (
        await server.request('/v1/me', {
          cookie: session.split('; ').find((part) => part.startsWith('__Host-session=')) ?? '',
        })
      ).status,
      200,
    )
    const account = await openForm(server, '/account/sessions', session)
    const signOut = await postForm(server, '/logout', { csrf_token: account.token }, { cookie: session })
    assert.equal(signOut.status, 303)
    assert.equal(signOut.headers.get('location'), '/login?notice=signed_out')
    assert.ok(signOut.headers.getSetCookie().some((cookie) => /^__Host-session=;.*Max-Age=0/.test(cookie)))
    assert.equal(
      (
        await server.request('/v1/me', {
          cookie: session.split('; ').find((part) => part.startsWith('__Host-session=')) ?? '',
        })
      ).status,
      401,
    )
  })

  it('send a signed-in browser only to this server or an allowed origin', async (t) => {
    const server = await startPageServer(t, { TESSERA_ALLOWED_ORIGINS: 'https://app.example' })
    const user = await registerUser(server)
    const evil = [
      '//evil.example',
      'https:evil.example',
      '/\\evil.example',
      'https://app.example@evil.example',
      '/.//evil.example',
      'https://evil.example',
      'javascript:alert(1)',
    ]
    for (const value of evil) {
      const page = await fetch(`${server.url}/login?return_to=${encodeURIComponent(value)}`)
      assert.equal(page.status, 400, value)
      assert.match(await page.text(), /does not serve/)
      const post = await signInThroughPage(server, user.username, strongPassword, value)
      assert.equal(post.status, 400, value)
      assert.equal(post.headers.get('location'), null)
    }
    const toApp = await signInThroughPage(server, user.username, strongPassword, 'https://app.example/play?level=2')
    assert.equal(toApp.status, 303)
    assert.equal(toApp.headers.get('location'), 'https://app.example/play?level=2')
    const toPath = await signInThroughPage(server, user.username, strongPassword, '/account/sessions')
    assert.equal(toPath.headers.get('location'), '/account/sessions')
    // Signed-in pages send an anonymous visitor to the sign-in page and back.
    const anonymous = await fetch(`${server.url}/account/sessions?x=1`, { redirect: 'manual' })
    assert.equal(anonymous.status, 303)
    assert.equal(anonymous.headers.get('location'), `/login?return_to=${encodeURIComponent('/account/sessions?x=1')}`)
  })

  it('answer a wrong password and an unknown user alike, and throttle sign-ins as the API does', async (t) => {
    const server = await startPageServer(t, {
      TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '3',
      TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '3',
    })
    const user = await registerUser(server)
    const wrong = await signInThroughPage(server, user.username, 'not the password at all')
    const unknown = await signInThroughPage(server, uniqueUsername('ghost'), 'not the password at all')
    const scrub = (text: string) => text.replace(/value="[^"]*"/g, '')
    assert.equal(wrong.status, 401)
    assert.equal(unknown.status, 401)
    assert.equal(scrub(await wrong.text()), scrub(await unknown.text()))
    await signInThroughPage(server, user.username, 'not the password at all')
    await signInThroughPage(server, user.username, 'not the password at all')
    const throttled = await signInThroughPage(server, user.username, strongPassword)
    assert.equal(throttled.status, 429)
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1)
    assert.match(await throttled.text(), /Too many attempts/)
    const api = await server.request('/v1/auth/login', { body: { username: user.username, password: strongPassword } })
    assert.equal(api.status, 429)
  })

  it('count registrations per address like the API', async (t) => {
    const server = await startPageServer(t, { TESSERA_THROTTLE_REGISTER_THRESHOLD: '2' })
    const statuses: number[] = []
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const form = await openForm(server, '/register')
      const response = await postForm(
        server,
        '/register',
        {
          csrf_token: form.token,
          username: uniqueUsername('reg'),
          password: strongPassword,
          password_repeat: strongPassword,
        },
        { cookie: form.cookies },
      )
      statuses.push(response.status)
    }
    assert.deepEqual(statuses.slice(0, 2), [303, 303])
    assert.ok(statuses.slice(2).includes(429), statuses.join(','))
    assert.equal(
      (
        await server.request('/v1/auth/register', {
          body: { username: uniqueUsername('api'), password: strongPassword },
        })
      ).status,
      429,
    )
  })

  it('speak the language of Accept-Language, or the one chosen with ?lang, kept in a cookie', async (t) => {
    const server = await startPageServer(t)
    const korean = await fetch(`${server.url}/login`, { headers: { 'accept-language': 'ko-KR,ko;q=0.9,en;q=0.5' } })
    assert.match(await korean.text(), /<html lang="ko">[\s\S]*로그인/)
    const chosen = await fetch(`${server.url}/login?lang=en`, { headers: { 'accept-language': 'ko' } })
    assert.match(await chosen.text(), /<html lang="en">/)
    const cookie = chosen.headers.getSetCookie().find((value) => value.startsWith('__Host-lang=en'))
    assert.match(cookie ?? '', /Secure/)
    const kept = await fetch(`${server.url}/register`, {
      headers: { 'accept-language': 'ko', cookie: '__Host-lang=en' },
    })
    assert.match(await kept.text(), /<html lang="en">/)
  })

  it('keep the console to admins: the sign-in page for visitors, 403 (recorded) for other users', async (t) => {
    const server = await startPageServer(t)
    const user = await registerUser(server)
    const anonymous = await fetch(`${server.url}/admin/users`, { redirect: 'manual' })
    assert.equal(anonymous.status, 303)
    const { cookie } = await logInWithCookie(server, user.username)
    const refused = await fetch(`${server.url}/admin/users`, { headers: { cookie }, redirect: 'manual' })
    assert.equal(refused.status, 403)
    assert.match(await refused.text(), /may not open this page/)
    const posted = await postForm(server, '/admin/clients', { csrf_token: 'x', name: 'sneaky' }, { cookie })
    assert.equal(posted.status, 403)
    assert.deepEqual(await server.application.tokenAdmin.listServiceClients(), [])
    const denied = server.auditEvents.filter(
      (event) => event.type === 'access_denied' && event.reason === 'missing_role',
    )
    assert.equal(denied.length, 2)
    assert.equal(denied[0]?.actorUserId, user.id)
  })

  it('are absent when TESSERA_PAGES_ENABLED is false', async (t) => {
    const server = await startTestServer(t, { TESSERA_PAGES_ENABLED: 'false' })
    for (const path of ['/', '/login', '/account', '/admin/users']) {
      const response = await server.request(path)
      assert.equal(response.status, 404, path)
      assert.equal(response.json?.code, 'not_found')
    }
  })
})

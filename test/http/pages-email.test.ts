/**
 * The pages mailed links lead to, over plain HTTP (as a browser without JavaScript sends them,
 * with `?token=`), against a real SMTP server in the test: forgot password with one answer for
 * every input, the new password set once, the address confirmed, and the pages without mail.
 * The flow with the token in the fragment, in a real browser, is in test/browser/.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { findFreePort } from '../helpers/redis.ts'
import { startTestSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp-server.ts'
import {
  logInWithToken,
  startTestServer,
  strongPassword,
  uniqueUsername,
  type TestServer,
} from '../helpers/test-server.ts'

const newPassword = 'a brand new passphrase for this account'

async function startWithMail(
  t: TestContext,
  logLines?: string[],
): Promise<{ server: TestServer; smtp: TestSmtpServer }> {
  const smtp = await startTestSmtpServer(t)
  const port = await findFreePort()
  // No TESSERA_MAIL_LINK_URL: the links lead to the hosted pages of the public URL.
  const server = await startTestServer(
    t,
    {
      TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}`,
      TESSERA_SMTP_URL: smtp.url,
      TESSERA_MAIL_FROM: 'Tessera <no-reply@tessera.test>',
      TESSERA_THROTTLE_REGISTER_THRESHOLD: '100000',
      TESSERA_THROTTLE_PASSWORD_RESET_THRESHOLD: '100000',
    },
    { port, ...(logLines ? { logLines } : {}) },
  )
  return { server, smtp }
}

function readCookies(headers: Headers): string {
  return headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ')
}

async function openForm(server: TestServer, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, { headers, redirect: 'manual' })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    text,
    token: /name="csrf_token" value="([^"]+)"/.exec(text)?.[1] ?? '',
    cookies: readCookies(response.headers),
  }
}

async function postForm(
  server: TestServer,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string>,
) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url, ...headers },
    body: new URLSearchParams(fields).toString(),
  })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

function readLinkToken(server: TestServer, mail: ReceivedMail, page: 'password-reset' | 'verify-email'): string {
  const escaped = server.url.replace(/[.]/g, '\\.')
  const match = new RegExp(`${escaped}/${page}#token=([A-Za-z0-9_-]+)`).exec(mail.text)
  assert.ok(match?.[1], `the mail links to this server's ${page} page: ${mail.text}`)
  return match[1]
}

/** An account whose address is verified through the verify-email page, posted as without JavaScript. */
async function registerVerified(server: TestServer, smtp: TestSmtpServer) {
  const username = uniqueUsername('page')
  const address = `${username}@example.com`
  const registered = await server.request('/v1/auth/register', {
    body: { username, password: strongPassword, email: address },
  })
  assert.equal(registered.status, 201, registered.text)
  const token = readLinkToken(server, await smtp.nextMailTo(address), 'verify-email')
  const page = await openForm(server, `/verify-email?token=${token}`)
  assert.equal(page.status, 200)
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer')
  assert.match(page.text, new RegExp(`name="token" value="${token}"`))
  const verified = await postForm(server, '/verify-email', { csrf_token: page.token, token }, { cookie: page.cookies })
  assert.equal(verified.status, 200, verified.text)
  assert.match(verified.text, new RegExp(`The address ${address} is confirmed`))
  const again = await postForm(server, '/verify-email', { csrf_token: page.token, token }, { cookie: page.cookies })
  assert.equal(again.status, 400)
  assert.match(again.text, /This link does not work/)
  return { username, address }
}

/** The sent page with this browser's form token taken out (it differs by browser, not by input). */
const withoutFormToken = (text: string) => text.replace(/name="csrf_token" value="[^"]+"/g, '')

describe('hosted pages of mailed links', () => {
  it('answer every reset request alike, mail the link of this server, set the password once and end every session', async (t) => {
    const logLines: string[] = []
    const { server, smtp } = await startWithMail(t, logLines)
    const account = await registerVerified(server, smtp)
    const session = await logInWithToken(server, account.username)

    const signIn = await openForm(server, '/login')
    assert.match(signIn.text, /<a href="\/forgot-password">Forgot your password\?<\/a>/)

    const forgot = await openForm(server, '/forgot-password')
    assert.equal(forgot.status, 200)
    assert.match(forgot.text, /<label for="account">Username or email address<\/label>/)
    const answers = []
    for (const account_ of ['nobody-here', 'nobody@example.com', account.address.toUpperCase()]) {
      const answer = await postForm(
        server,
        '/forgot-password',
        { csrf_token: forgot.token, account: account_ },
        { cookie: forgot.cookies },
      )
      assert.equal(answer.status, 200)
      answers.push(withoutFormToken(answer.text))
    }
    assert.match(
      answers[0] ?? '',
      /If an account with a verified email address matches, a mail with a link is on its way/,
    )
    assert.equal(new Set(answers).size, 1, 'one answer whatever the input names')
    const empty = await postForm(
      server,
      '/forgot-password',
      { csrf_token: forgot.token, account: ' ' },
      { cookie: forgot.cookies },
    )
    assert.equal(empty.status, 400)
    assert.match(empty.text, /aria-invalid="true"/)
    const forged = await postForm(server, '/forgot-password', { account: account.username }, { cookie: forgot.cookies })
    assert.equal(forged.status, 403)

    const mail = await smtp.nextMailTo(account.address)
    const token = readLinkToken(server, mail, 'password-reset')
    await server.application.email.whenMailSent()
    assert.equal(
      smtp.received.filter((received) => received.to.includes(account.address)).length,
      2,
      'the verification mail and one reset mail',
    )

    const page = await openForm(server, `/password-reset?token=${token}`)
    assert.equal(page.status, 200)
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer')
    assert.match(page.text, /<script type="module" src="\/assets\/[^"]+\/web\/assets\/fragment-token\.ts"><\/script>/)
    const form = { csrf_token: page.token, token }
    const cookie = { cookie: page.cookies }

    const mismatch = await postForm(
      server,
      '/password-reset',
      { ...form, password: newPassword, password_repeat: 'something else' },
      cookie,
    )
    assert.equal(mismatch.status, 400)
    assert.match(
      mismatch.text,
      /<span class="field-error" id="password_repeat-error">The two passwords are not the same\.<\/span>/,
    )
    const weak = await postForm(
      server,
      '/password-reset',
      { ...form, password: 'short', password_repeat: 'short' },
      cookie,
    )
    assert.equal(weak.status, 400)
    assert.match(weak.text, /id="password-error">The password must be at least/)
    assert.match(weak.text, /id="password"[^>]*aria-invalid="true"/)

    // Under no-referrer a browser sends `Origin: null`; Fetch Metadata tells its own form from a forged one.
    const sandboxed = await postForm(
      server,
      '/password-reset',
      { ...form, password: newPassword, password_repeat: newPassword },
      {
        ...cookie,
        origin: 'null',
        'sec-fetch-site': 'cross-site',
      },
    )
    assert.equal(sandboxed.status, 403)
    const done = await postForm(
      server,
      '/password-reset',
      { ...form, password: newPassword, password_repeat: newPassword },
      {
        ...cookie,
        origin: 'null',
        'sec-fetch-site': 'same-origin',
      },
    )
    assert.equal(done.status, 200, done.text)
    assert.match(done.text, /every session of your account was ended/)
    assert.match(done.text, /<a href="\/login">Sign in<\/a>/)
    const old = await server.request('/v1/me', { method: 'GET', bearer: session.access_token })
    assert.equal(old.status, 401, 'the session from before the reset has ended')
    await logInWithToken(server, account.username, newPassword)

    const reused = await postForm(
      server,
      '/password-reset',
      { ...form, password: 'yet another long passphrase', password_repeat: 'yet another long passphrase' },
      cookie,
    )
    assert.equal(reused.status, 400)
    assert.match(reused.text, /This link was used already, has expired, or was replaced by a newer one/)
    assert.match(reused.text, /<a href="\/forgot-password">Ask for a new link<\/a>/)

    const leaked = logLines.filter((line) => line.includes(token))
    assert.deepEqual(leaked, [], 'the token is in no log line')
    assert.ok(
      logLines.some((line) => line.includes('"path":"/password-reset"')),
      'the requests were logged, by path',
    )
  })

  it('count reset requests and failed tokens per address in the buckets of the API', async (t) => {
    const smtp = await startTestSmtpServer(t)
    const port = await findFreePort()
    const server = await startTestServer(
      t,
      {
        TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}`,
        TESSERA_SMTP_URL: smtp.url,
        TESSERA_MAIL_FROM: 'no-reply@tessera.test',
        TESSERA_THROTTLE_PASSWORD_RESET_THRESHOLD: '2',
      },
      { port },
    )
    const forgot = await openForm(server, '/forgot-password')
    const ask = () =>
      postForm(server, '/forgot-password', { csrf_token: forgot.token, account: 'someone' }, { cookie: forgot.cookies })
    assert.deepEqual([(await ask()).status, (await ask()).status], [200, 200])
    const throttled = await ask()
    assert.equal(throttled.status, 429, throttled.text)
    assert.match(throttled.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/)
    assert.match(throttled.text, /<html/)
    const api = await server.request('/v1/auth/password-reset', { body: { username: 'someone' } })
    assert.equal(api.status, 429, 'the page and the API share one bucket')

    const page = await openForm(server, '/password-reset?token=not-a-token')
    const guess = () =>
      postForm(
        server,
        '/password-reset',
        { csrf_token: page.token, token: 'not-a-token', password: newPassword, password_repeat: newPassword },
        { cookie: page.cookies },
      )
    assert.deepEqual([(await guess()).status, (await guess()).status], [400, 400])
    assert.equal((await guess()).status, 429, 'token guessing through the page is slowed down as through the API')
  })

  it('set the password once when one link is posted 50 times at once', async (t) => {
    const { server, smtp } = await startWithMail(t)
    const account = await registerVerified(server, smtp)
    const forgot = await openForm(server, '/forgot-password')
    await postForm(
      server,
      '/forgot-password',
      { csrf_token: forgot.token, account: account.username },
      { cookie: forgot.cookies },
    )
    const token = readLinkToken(server, await smtp.nextMailTo(account.address), 'password-reset')
    const page = await openForm(server, `/password-reset?token=${token}`)
    const statuses = await Promise.all(
      Array.from({ length: 50 }, (_, index) => {
        const password = `${newPassword} number ${index}`
        return postForm(
          server,
          '/password-reset',
          { csrf_token: page.token, token, password, password_repeat: password },
          { cookie: page.cookies },
        )
      }),
    ).then((answers) => answers.map((answer) => answer.status))
    assert.equal(statuses.filter((status) => status === 200).length, 1, `one success: ${statuses.join(' ')}`)
    assert.equal(statuses.filter((status) => status === 400).length, 49, 'the others are told the link does not work')
  })

  it('answer in Korean, from the catalogue of the page', async (t) => {
    const { server } = await startWithMail(t)
    const forgot = await openForm(server, '/forgot-password', { 'accept-language': 'ko' })
    assert.match(forgot.text, /<label for="account">사용자 이름 또는 이메일 주소<\/label>/)
    const reset = await openForm(server, '/password-reset', { 'accept-language': 'ko' })
    assert.match(reset.text, /새 비밀번호 정하기/)
  })

  it('say that a reset is not available, and offer none, when the server sends no mail', async (t) => {
    const port = await findFreePort()
    const server = await startTestServer(t, { TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}` }, { port })
    const signIn = await openForm(server, '/login')
    assert.doesNotMatch(signIn.text, /forgot-password/)
    const forgot = await openForm(server, '/forgot-password')
    assert.equal(forgot.status, 200)
    assert.match(forgot.text, /Ask an administrator to reset it/)
    assert.doesNotMatch(forgot.text, /<form method="post" action="\/forgot-password"/)
    const reset = await openForm(server, '/password-reset?token=abc')
    assert.equal(reset.status, 404)
    assert.match(reset.text, /Ask an administrator/)
  })
})

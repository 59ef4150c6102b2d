/**
 * The second step of the sign-in page over plain HTTP, as a script would hammer it: a wrong
 * password on an account with a second factor answers as any wrong password (nothing tells the
 * account has one), and 50 simultaneous forms with one challenge and one valid code open exactly
 * one session, the others refused without a 5xx.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { startPageServer } from '../helpers/page-browser.ts'
import { enrolTotp } from '../helpers/second-factor.ts'
import {
  logInWithToken,
  registerUser,
  strongPassword,
  uniqueUsername,
  type TestServer,
} from '../helpers/test-server.ts'

function readCookies(headers: Headers): string {
  return headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ')
}

async function openSignInForm(server: TestServer): Promise<{ token: string; cookies: string }> {
  const response = await fetch(`${server.url}/login`, { redirect: 'manual' })
  const text = await response.text()
  return { token: /name="csrf_token" value="([^"]+)"/.exec(text)?.[1] ?? '', cookies: readCookies(response.headers) }
}

function postForm(server: TestServer, path: string, fields: Record<string, string>, cookie: string) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url, cookie },
    body: new URLSearchParams(fields).toString(),
  })
}

/** The visible message of a sign-in answer, without the parts that differ by request (tokens, the name typed). */
function messageOf(text: string, username: string): string {
  return text.replace(/name="csrf_token" value="[^"]+"/g, '').replaceAll(username, '<name>')
}

describe('the second step of the sign-in page over HTTP', () => {
  it('tells nothing of a second factor to a wrong password, and spends one code once under 50 simultaneous forms', async (t) => {
    const server = await startPageServer(t)
    const withApp = await registerUser(server)
    const totp = await enrolTotp(server, { bearer: (await logInWithToken(server, withApp.username)).access_token })
    const form = await openSignInForm(server)

    const wrongWithApp = await postForm(
      server,
      '/login',
      { csrf_token: form.token, username: withApp.username, password: 'a wrong password for it' },
      form.cookies,
    )
    const unknownName = uniqueUsername('nobody')
    const wrongUnknown = await postForm(
      server,
      '/login',
      { csrf_token: form.token, username: unknownName, password: 'a wrong password for it' },
      form.cookies,
    )
    assert.equal(wrongWithApp.status, 401)
    assert.equal(wrongUnknown.status, 401)
    assert.equal(
      messageOf(await wrongWithApp.text(), withApp.username),
      messageOf(await wrongUnknown.text(), unknownName),
    )

    const passwordStep = await postForm(
      server,
      '/login',
      { csrf_token: form.token, username: withApp.username, password: strongPassword },
      form.cookies,
    )
    assert.equal(passwordStep.status, 200)
    assert.equal(
      readCookies(passwordStep.headers).includes('__Host-session'),
      false,
      'no session before the second factor',
    )
    const challenge = /name="challenge" value="([^"]+)"/.exec(await passwordStep.text())?.[1] ?? ''
    assert.ok(challenge.length >= 43)

    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        postForm(
          server,
          '/login/second-step',
          { csrf_token: form.token, challenge, code: totp.codeAt() },
          form.cookies,
        ),
      ),
    )
    const statuses = answers.map((answer) => answer.status)
    const sessions = answers.filter(
      (answer) => answer.status === 303 && readCookies(answer.headers).includes('__Host-session='),
    )
    assert.equal(sessions.length, 1, `statuses ${statuses.join(',')}`)
    assert.equal(sessions[0]?.headers.get('location'), '/account')
    assert.ok(
      statuses.every((status) => status === 303 || status === 401 || status === 429),
      `statuses ${statuses.join(',')}`,
    )
    const lateComers = answers.filter((answer) => answer !== sessions[0] && answer.status === 303)
    assert.ok(lateComers.every((answer) => answer.headers.get('location') === '/login?notice=second_step_expired'))
    await Promise.all(answers.map((answer) => answer.body?.cancel()))
  })
})

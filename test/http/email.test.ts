/**
 * An account's email address over HTTP: set at registration or by its owner (recently
 * authenticated, with the password), normalised, unique under a burst of simultaneous claims on
 * SQLite and PostgreSQL, verified once through a mailed link, seen and set by an admin; and the
 * notice mailed when a recovery code is used.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Stores } from '../../src/core/stores.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'
import { skipUnlessPostgres } from '../helpers/backends.ts'
import { openTestPostgresStores } from '../helpers/postgres.ts'
import { enrolTotp } from '../helpers/second-factor.ts'
import { startTestSmtpServer } from '../helpers/smtp-server.ts'
import {
  logInWithToken,
  registerUser,
  startTestServer,
  strongPassword,
  uniqueUsername,
} from '../helpers/test-server.ts'

const backends: Array<{ name: string; skip: string | false; openStores(now: Date): Promise<Stores> }> = [
  { name: 'SQLite', skip: false, openStores: async (now) => openSqliteStores(':memory:', now) },
  { name: 'PostgreSQL', skip: await skipUnlessPostgres(), openStores: (now) => openTestPostgresStores({ now }) },
]

const roomy = { TESSERA_THROTTLE_REGISTER_THRESHOLD: '100000', TESSERA_THROTTLE_IP_THRESHOLD: '100000' }

describe('email addresses', () => {
  it('normalises an address given at registration and refuses one another account holds, in any case', async (t) => {
    const server = await startTestServer(t, roomy)
    const name = uniqueUsername('reg')
    const first = await server.request('/v1/auth/register', {
      body: { username: name, password: strongPassword, email: `  Ann.Lee@Example.ORG ` },
    })
    assert.equal(first.status, 201, first.text)
    const session = await logInWithToken(server, name)
    const mine = await server.request('/v1/me/email', { bearer: session.access_token })
    assert.deepEqual(mine.json, { email: { address: 'Ann.Lee@example.org', verified: false, verified_at: null } })
    const taken = await server.request('/v1/auth/register', {
      body: { username: uniqueUsername('reg'), password: strongPassword, email: 'ann.lee@EXAMPLE.org' },
    })
    assert.equal(taken.status, 409)
    assert.equal(taken.json.code, 'email_taken')
    assert.deepEqual(Object.keys(taken.json).sort(), ['code', 'detail', 'instance', 'status', 'title', 'type'])
    for (const bad of [
      'no-at-sign',
      'two@@example.com',
      'a b@example.com',
      'x@localhost',
      'Ann <ann@example.com>',
      `${'a'.repeat(65)}@example.com`,
      'a@\u202eexample.com',
    ]) {
      const refused = await server.request('/v1/auth/register', {
        body: { username: uniqueUsername('bad'), password: strongPassword, email: bad },
      })
      assert.equal(refused.status, 400, bad)
      assert.equal(refused.json.code, 'invalid_email', bad)
    }
  })

  it('changes the address only with a recent authentication and the password, and verifies it once', async (t) => {
    const smtp = await startTestSmtpServer(t)
    const server = await startTestServer(t, {
      ...roomy,
      TESSERA_SMTP_URL: smtp.url,
      TESSERA_MAIL_FROM: 'no-reply@tessera.test',
      TESSERA_MAIL_LINK_URL: 'https://app.example/account',
      TESSERA_REAUTHENTICATION_MAX_AGE: '60s',
    })
    const user = await registerUser(server)
    const session = await logInWithToken(server, user.username)
    const address = `${user.username}@example.net`
    const wrong = await server.request('/v1/me/email', {
      method: 'PUT',
      bearer: session.access_token,
      body: { email: address, password: 'not the password at all' },
    })
    assert.equal(wrong.status, 401)
    assert.equal(wrong.json.code, 'invalid_credentials')
    const set = await server.request('/v1/me/email', {
      method: 'PUT',
      bearer: session.access_token,
      body: { email: address, password: strongPassword },
    })
    assert.equal(set.status, 200, set.text)
    assert.equal(set.json.email.verified, false)
    const mail = await smtp.nextMailTo(address)
    const token = /#token=([A-Za-z0-9_-]+)/.exec(mail.text)?.[1] ?? ''
    const verified = await server.request('/v1/me/email/verify', { body: { token } })
    assert.equal(verified.status, 200)
    assert.equal(verified.json.email.verified, true)
    const again = await server.request('/v1/me/email/verify', { body: { token } })
    assert.equal(again.status, 400)
    assert.equal(again.json.code, 'invalid_email_token')

    server.clock.advanceSeconds(120)
    const stale = await server.request('/v1/me/email', {
      method: 'PUT',
      bearer: session.access_token,
      body: { email: `x${address}`, password: strongPassword },
    })
    assert.equal(stale.status, 403)
    assert.equal(stale.json.code, 'reauthentication_required')
    const unchanged = await server.request('/v1/me/email', { bearer: session.access_token })
    assert.equal(unchanged.json.email.address, address)
  })

  it("lets an admin see and set an account's address", async (t) => {
    const server = await startTestServer(t, roomy)
    const admin = await registerUser(server)
    await server.stores.accounts.replaceRoles(admin.id, ['admin', 'user'], server.clock.now())
    const adminSession = await logInWithToken(server, admin.username)
    const user = await registerUser(server)
    const none = await server.request(`/v1/admin/users/${user.id}/email`, { bearer: adminSession.access_token })
    assert.deepEqual(none.json, { email: null })
    const set = await server.request(`/v1/admin/users/${user.id}/email`, {
      method: 'PUT',
      bearer: adminSession.access_token,
      body: { email: 'Someone@Example.com', verified: true },
    })
    assert.equal(set.status, 200, set.text)
    assert.equal(set.json.email.address, 'Someone@example.com')
    assert.equal(set.json.email.verified, true)
    const userSession = await logInWithToken(server, user.username)
    assert.equal(
      (await server.request(`/v1/admin/users/${user.id}/email`, { bearer: userSession.access_token })).status,
      403,
    )
    assert.equal((await server.request(`/v1/admin/users/${user.id}/email`)).status, 401)
    const found = await server.application.email.findUsersByEmailPrefix('SOME', 10)
    assert.deepEqual(
      found.map((entry) => entry.user.id),
      [user.id],
    )
    // The admin search finds the account by a prefix of its address as well as of its username.
    const search = (query: string) =>
      server.request(`/v1/admin/users?query=${encodeURIComponent(query)}`, { bearer: adminSession.access_token })
    assert.deepEqual(
      (await search('someone@EX')).json.users.map((found: { id: string }) => found.id),
      [user.id],
    )
    assert.deepEqual(
      (await search(user.username)).json.users.map((found: { id: string }) => found.id),
      [user.id],
    )
    assert.deepEqual((await search('nobody@')).json.users, [])
    assert.ok(
      server.auditEvents.some(
        (event) => event.type === 'email_changed' && event.subjectUserId === user.id && event.actorUserId === admin.id,
      ),
    )
  })

  it('mails the owner when a recovery code is used, in the language of their address', async (t) => {
    const smtp = await startTestSmtpServer(t)
    const server = await startTestServer(t, {
      ...roomy,
      TESSERA_SMTP_URL: smtp.url,
      TESSERA_MAIL_FROM: 'no-reply@tessera.test',
      TESSERA_MAIL_LINK_URL: 'https://app.example/account',
    })
    const user = await registerUser(server)
    const session = await logInWithToken(server, user.username)
    const address = `${user.username}@example.kr`
    await server.request('/v1/me/email', {
      method: 'PUT',
      bearer: session.access_token,
      headers: { 'accept-language': 'ko' },
      body: { email: address, password: strongPassword },
    })
    const token = /#token=([A-Za-z0-9_-]+)/.exec((await smtp.nextMailTo(address)).text)?.[1] ?? ''
    assert.equal((await server.request('/v1/me/email/verify', { body: { token } })).status, 200)
    const totp = await enrolTotp(server, { bearer: session.access_token })
    const login = await server.request('/v1/auth/login', {
      body: { username: user.username, password: strongPassword },
    })
    assert.equal(login.json.code, 'mfa_required')
    const second = await server.request('/v1/auth/mfa', {
      body: { challenge: login.json.mfa_challenge, recovery_code: totp.recoveryCodes[0] },
    })
    assert.equal(second.status, 200, second.text)
    const notice = await smtp.nextMailTo(address)
    assert.equal(notice.subject, '복구 코드가 사용되었습니다')
    assert.match(notice.text, /남은 코드는 9개/)
  })

  for (const backend of backends) {
    it(
      `gives an address to exactly one of 50 accounts claiming it at once (${backend.name})`,
      { skip: backend.skip },
      async (t) => {
        const server = await startTestServer(t, roomy, { openStores: backend.openStores })
        const sessions = []
        for (let index = 0; index < 50; index += 1) {
          const user = await registerUser(server)
          sessions.push(await logInWithToken(server, user.username))
        }
        const contested = `race-${uniqueUsername()}@Example.com`
        const answers = await Promise.all(
          sessions.map((session, index) =>
            server.request('/v1/me/email', {
              method: 'PUT',
              bearer: session.access_token,
              // The same mailbox in different cases: one key.
              body: { email: index % 2 === 0 ? contested : contested.toUpperCase(), password: strongPassword },
            }),
          ),
        )
        const statuses = answers.map((answer) => answer.status)
        assert.equal(statuses.filter((status) => status === 200).length, 1, statuses.join(','))
        assert.equal(statuses.filter((status) => status === 409).length, 49, statuses.join(','))
        assert.ok(
          answers.filter((answer) => answer.status === 409).every((answer) => answer.json.code === 'email_taken'),
        )
      },
    )
  }
})

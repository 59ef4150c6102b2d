/**
 * The admin console in a real Chromium, on users: roles granted and revoked (and carried by the
 * user's next token), a role form made stale by another change, and a sign-in lock-out lifted.
 * Each action's effect is checked through the API. The other actions are in
 * admin-console-operations.test.ts, and the sweep of every page in admin-console-pages-*.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { createSharedChromium, skipUnlessChromium } from '../helpers/browser.ts'
import {
  assertAccessible,
  assertNoProblems,
  createAdmin,
  openWatchedPage,
  signInThroughForm,
  startPageServer,
} from '../helpers/page-browser.ts'
import { logInWithToken, registerUser, strongPassword, uniqueUsername } from '../helpers/test-server.ts'

const sharedChromium = createSharedChromium()
const requireBrowser = (): Browser => sharedChromium.require()

describe('admin console in Chromium: roles and lock-outs', { skip: skipUnlessChromium() }, () => {
  sharedChromium.startForSuite()

  it("grants and revokes roles, and the user's next token carries them", async (t) => {
    const server = await startPageServer(t)
    const admin = await createAdmin(server)
    const user = await registerUser(server, uniqueUsername('player'))
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    await signInThroughForm(page, server, admin.username)
    await page.getByRole('link', { name: 'Admin console' }).click()
    await page.waitForURL(`${server.url}/admin/users`)
    await assertAccessible(page)
    await page.getByRole('link', { name: user.username }).click()
    await assertAccessible(page)
    await page.getByLabel('Role to grant').fill('Moderator!')
    await page.getByRole('button', { name: 'Grant' }).click()
    assert.equal(await page.getByLabel('Role to grant').getAttribute('aria-invalid'), 'true')
    await page.getByLabel('Role to grant').fill('moderator')
    await page.getByRole('button', { name: 'Grant' }).click()
    assert.equal(await page.getByRole('status').textContent(), 'Role moderator granted.')
    const token = await logInWithToken(server, user.username)
    assert.deepEqual((await server.request('/v1/me', { bearer: token.access_token })).json.user.roles, [
      'moderator',
      'user',
    ])
    await page.getByRole('button', { name: 'Revoke the role moderator' }).click()
    assert.equal(await page.getByRole('status').textContent(), 'Role moderator revoked.')
    // Live sessions see the change at once, as through PUT /v1/admin/users/{id}/roles.
    assert.deepEqual((await server.request('/v1/me', { bearer: token.access_token })).json.user.roles, ['user'])
    const events = server.auditEvents.filter(
      (event) => event.subjectUserId === user.id && (event.type === 'role_granted' || event.type === 'role_revoked'),
    )
    assert.deepEqual(
      events.map((event) => [event.type, event.actorUserId]),
      [
        ['role_granted', admin.id],
        ['role_revoked', admin.id],
      ],
    )
    await assertNoProblems(watched)
  })

  it('refuses a role form made before another change, rather than undoing that change', async (t) => {
    const server = await startPageServer(t)
    const admin = await createAdmin(server)
    const user = await registerUser(server)
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    await signInThroughForm(page, server, admin.username)
    await page.goto(`${server.url}/admin/users/${user.id}`)
    server.clock.advanceSeconds(1)
    await server.application.accountAdmin.replaceUserRoles(user.id, ['user', 'editor'], {
      actorUserId: admin.id,
      context: { ip: null, userAgent: 'test', requestId: null },
    })
    await page.getByRole('button', { name: 'Revoke the role user' }).click()
    assert.match((await page.locator('#role-error').textContent()) ?? '', /changed by someone else/)
    assert.deepEqual((await server.application.accountAdmin.findUser(user.id))?.roles, ['editor', 'user'])
    await assertNoProblems(watched)
  })

  it('lifts a sign-in lock-out, and the user signs in at once', async (t) => {
    const server = await startPageServer(t, {
      TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '3',
      TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '3',
    })
    const admin = await createAdmin(server)
    const user = await registerUser(server)
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await server.request('/v1/auth/login', {
        body: { username: user.username, password: 'surely not the right one' },
      })
    }
    assert.equal(
      (await server.request('/v1/auth/login', { body: { username: user.username, password: strongPassword } })).status,
      429,
    )
    const watched = await openWatchedPage(t, requireBrowser())
    const { page } = watched
    await signInThroughForm(page, server, admin.username)
    await page.goto(`${server.url}/admin/users/${user.id}`)
    await page.getByRole('button', { name: 'Lift lock-out' }).click()
    assert.match((await page.getByRole('status').textContent()) ?? '', /Lock-out lifted \(\d+ counters cleared\)/)
    assert.equal(
      (await server.request('/v1/auth/login', { body: { username: user.username, password: strongPassword } })).status,
      200,
    )
    await assertNoProblems(watched)
  })
})

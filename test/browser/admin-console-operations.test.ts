/**
 * The admin console in a real Chromium, beyond single users: the audit trail and its chart,
 * signing-key rotation (an emergency one only after its typed confirmation), and a service
 * client whose secret works once shown. Each action's effect is checked through the API.
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
import { logInWithToken, registerUser } from '../helpers/test-server.ts'

const sharedChromium = createSharedChromium()
const requireBrowser = (): Browser => sharedChromium.require()

function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

describe(
  'admin console in Chromium: audit trail, signing keys and service clients',
  { skip: skipUnlessChromium() },
  () => {
    sharedChromium.startForSuite()

    it('filters the audit trail and charts the failed sign-ins of the last day', async (t) => {
      const server = await startPageServer(t)
      const admin = await createAdmin(server)
      const user = await registerUser(server)
      server.clock.advanceSeconds(-3 * 3600)
      for (let attempt = 0; attempt < 2; attempt += 1)
        await server.request('/v1/auth/login', {
          body: { username: user.username, password: 'wrong password number one' },
        })
      server.clock.advanceSeconds(3 * 3600)
      await server.request('/v1/auth/login', {
        body: { username: 'nobody_at_all', password: 'wrong password number two' },
      })
      const watched = await openWatchedPage(t, requireBrowser())
      const { page } = watched
      await signInThroughForm(page, server, admin.username)
      await page.goto(`${server.url}/admin/audit`)
      await assertAccessible(page)
      assert.match(
        (await page.locator('figcaption').textContent()) ?? '',
        /^3 failed and 0 refused sign-ins in the last 24 hours/,
      )
      assert.equal(await page.locator('.bar-failed').count(), 24)
      await page.getByLabel('Event type').selectOption('login_failed')
      await page.getByRole('button', { name: 'Apply filters' }).click()
      const types = await page.locator('tbody tr td:nth-child(2)').allTextContents()
      assert.deepEqual(types, ['login_failed', 'login_failed', 'login_failed'])
      await page.getByLabel('User id').fill(user.id)
      await page.getByRole('button', { name: 'Apply filters' }).click()
      assert.equal(await page.locator('tbody tr').count(), 2)
      await page.getByLabel('User id').fill('alice')
      await page.getByRole('button', { name: 'Apply filters' }).click()
      assert.equal(await page.getByLabel('User id').getAttribute('aria-invalid'), 'true')
      assert.equal(
        await page.evaluate(
          () => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id,
        ),
        'user',
      )
      await assertAccessible(page)
      await page.getByRole('link', { name: 'Alerts' }).click()
      await assertAccessible(page)
      await assertNoProblems(watched)
    })

    it('rotates the signing keys, and an emergency rotation only after its typed confirmation', async (t) => {
      const server = await startPageServer(t)
      const admin = await createAdmin(server)
      const user = await registerUser(server)
      const token = await logInWithToken(server, user.username)
      const watched = await openWatchedPage(t, requireBrowser())
      const { page } = watched
      await signInThroughForm(page, server, admin.username)
      await page.goto(`${server.url}/admin/keys`)
      await assertAccessible(page)
      const kidsBefore = (await server.request('/.well-known/jwks.json')).json.keys.map(
        (key: { kid: string }) => key.kid,
      )
      await page.getByLabel('Algorithm of the new key').selectOption('ES256')
      await page.getByRole('button', { name: 'Rotate keys' }).click()
      const notice = (await page.getByRole('status').textContent()) ?? ''
      const kid = /New key (\S+) published/.exec(notice)?.[1]
      assert.ok(kid, notice)
      const kidsAfter = (await server.request('/.well-known/jwks.json')).json.keys.map(
        (key: { kid: string }) => key.kid,
      )
      assert.deepEqual(kidsAfter.sort(), [...kidsBefore, kid].sort())
      assert.equal((await server.request('/v1/me', { bearer: token.access_token })).status, 200)

      await page.getByRole('link', { name: 'Emergency rotation…' }).click()
      await assertAccessible(page)
      await page.getByLabel('Type ROTATE').fill('rotate')
      await page.getByRole('button', { name: 'Rotate now and retire the others' }).click()
      assert.equal(await page.locator('#confirmation-error').textContent(), 'Type ROTATE in capitals to confirm.')
      assert.equal((await server.request('/v1/me', { bearer: token.access_token })).status, 200, 'nothing happened yet')
      await page.getByLabel('Type ROTATE').fill('ROTATE')
      await page.getByRole('button', { name: 'Rotate now and retire the others' }).click()
      assert.match((await page.getByRole('status').textContent()) ?? '', /^Emergency rotation done/)
      assert.equal(
        (await server.request('/v1/me', { bearer: token.access_token })).status,
        401,
        'tokens of the retired keys are refused',
      )
      assert.equal(
        server.auditEvents.filter((event) => event.type === 'key_rotated' && event.actorUserId === admin.id).length,
        2,
      )
      await assertNoProblems(watched)
    })

    it('creates a service client whose secret is shown once and works, and deletes it after a confirmation', async (t) => {
      const server = await startPageServer(t)
      const admin = await createAdmin(server)
      const user = await registerUser(server)
      const token = await logInWithToken(server, user.username)
      const watched = await openWatchedPage(t, requireBrowser())
      const { page, context } = watched
      await context.grantPermissions(['clipboard-read', 'clipboard-write'])
      await signInThroughForm(page, server, admin.username)
      await page.goto(`${server.url}/admin/clients`)
      await assertAccessible(page)
      // The page says what a client's credentials open, game servers' ticket redemption included.
      await page.getByText('redeem tickets, read and write session and player data').waitFor()
      await page.getByLabel('Name', { exact: true }).fill('game-server')
      await page.getByRole('button', { name: 'Create client' }).click()
      const secret = (await page.locator('#client-secret').textContent()) ?? ''
      const clientId = (await page.locator('dd.mono').first().textContent()) ?? ''
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/)
      await assertAccessible(page)
      await page.getByRole('button', { name: 'Copy' }).click()
      // The status is written once the clipboard has taken the secret: wait for it, as a reader would.
      await page.locator('#client-secret-status', { hasText: 'Copied' }).waitFor()
      assert.equal(await page.locator('#client-secret-status').textContent(), 'Copied')
      assert.equal(
        await page.evaluate(() =>
          (
            globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
          ).navigator.clipboard.readText(),
        ),
        secret,
      )
      const introspect = () =>
        server.request('/v1/oauth/introspect', {
          rawBody: `token=${token.access_token}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(clientId, secret) },
        })
      assert.equal((await introspect()).json.active, true)
      // Shown once: the list and a reload never show it again.
      await page.getByRole('link', { name: 'I have stored the secret' }).click()
      assert.equal((await page.content()).includes(secret), false)
      await page.getByLabel('Name', { exact: true }).fill('game-server')
      await page.getByRole('button', { name: 'Create client' }).click()
      assert.equal(await page.locator('#name-error').textContent(), 'A client with this name exists.')
      await page.getByRole('link', { name: 'Delete the client game-server' }).click()
      await assertAccessible(page)
      await page.getByRole('button', { name: 'Delete the client' }).click()
      assert.equal(await page.getByRole('status').textContent(), 'Client game-server deleted.')
      assert.equal((await introspect()).status, 401)
      await assertNoProblems(watched)
    })
  },
)

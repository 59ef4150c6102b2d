/**
 * Imported argon2id hashes carry their own cost; Tessera bounds it at import and at sign-in.
 * regression: #11 (item 5)
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { hashPassword } from '../../src/core/passwords/argon2id.ts'
import {
  logInWithToken,
  startTestServer,
  strongPassword,
  uniqueUsername,
  type TestServer,
} from '../helpers/test-server.ts'

/** A PHC string with any parameters and a made-up salt and tag (never computed here). */
function phcWith(memory: number, passes: number, parallelism = 1): string {
  return `$argon2id$v=19$m=${memory},t=${passes},p=${parallelism}$c29tZXNhbHRzb21lc2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY`
}

async function signedInAdmin(server: TestServer) {
  const username = uniqueUsername('admin')
  await server.application.accountAdmin.createUser(
    { username, password: strongPassword, roles: ['admin', 'user'] },
    { actorUserId: null, context: { ip: null, userAgent: 'test', requestId: null } },
  )
  return logInWithToken(server, username)
}

/** What an account imported before the bounds existed looks like: its hash straight in the store. */
async function insertLegacyUser(server: TestServer, passwordHash: string): Promise<string> {
  const username = uniqueUsername('legacy')
  const now = server.clock.now()
  await server.stores.accounts.insertUser({
    id: randomUUID(),
    username,
    usernameKey: username,
    usernameSkeleton: null,
    passwordHash,
    roles: ['user'],
    disabledAt: null,
    sessionEpoch: 0,
    isPasswordChangeRequired: false,
    createdAt: now,
    updatedAt: now,
  })
  return username
}

function withoutInstance(body: Record<string, unknown>) {
  const { instance: _instance, ...rest } = body
  return rest
}

describe('argon2id parameter bounds over HTTP', () => {
  it('refuses out-of-bounds argon2id hashes at import, each with its own error, and imports the rest', async (t) => {
    const server = await startTestServer(t)
    const admin = await signedInAdmin(server)
    const { argon2 } = server.config.passwords
    const good = await hashPassword('an imported passphrase', {
      ...argon2,
      memoryKiB: argon2.memoryKiB * 2,
      passes: argon2.passes * 2,
    })
    const entries = [
      { username: uniqueUsername('slow'), password_hash: phcWith(argon2.memoryKiB, 300) },
      { username: uniqueUsername('huge'), password_hash: phcWith(9_999_999_999, 1) },
      { username: uniqueUsername('weak'), password_hash: phcWith(8, 1) },
      { username: uniqueUsername('lanes'), password_hash: phcWith(16, 1, 4) },
      { username: uniqueUsername('good'), password_hash: good },
    ]
    const response = await server.request('/v1/admin/users/import', {
      bearer: admin.access_token,
      body: { users: entries },
    })
    assert.equal(response.status, 200)
    const results = response.json.results as Array<{ outcome: string; code?: string; message?: string }>
    assert.deepEqual(
      results.map((result) => result.outcome),
      ['failed', 'failed', 'failed', 'failed', 'imported'],
    )
    assert.deepEqual(
      results.slice(0, 4).map((result) => result.code),
      Array(4).fill('validation_failed'),
    )
    assert.match(results[0]?.message ?? '', /more than 4 times the configured parameters/)
    assert.match(results[1]?.message ?? '', /more than 4 times the configured parameters/)
    assert.match(results[2]?.message ?? '', /below the OWASP minimum/)
    assert.match(results[3]?.message ?? '', /not valid/)
    await logInWithToken(server, entries[4]?.username ?? '', 'an imported passphrase')
    assert.match(
      (await server.application.accountAdmin.findUserByUsername(entries[4]?.username ?? ''))?.passwordHash ?? '',
      new RegExp(`m=${argon2.memoryKiB},t=${argon2.passes},`),
    )
  })

  it(
    'answers a stored out-of-bounds hash like a wrong password, without computing it, and flags it in the audit trail',
    { timeout: 60_000 },
    async (t) => {
      const server = await startTestServer(t, {
        TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '90',
        TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '90',
      })
      const { argon2 } = server.config.passwords
      // t=100000 would hold a hash slot for minutes; m=9999999999 made argon2 throw (a 500 on every attempt).
      const slow = await insertLegacyUser(server, phcWith(argon2.memoryKiB, 100_000))
      const huge = await insertLegacyUser(server, phcWith(9_999_999_999, 1))
      const normal = await insertLegacyUser(server, await hashPassword(strongPassword, argon2))
      const login = (username: string) =>
        server.request('/v1/auth/login', { body: { username, password: strongPassword } })
      const wrong = await server.request('/v1/auth/login', {
        body: { username: normal, password: 'not the password at all' },
      })
      assert.equal(wrong.status, 401)
      for (const username of [slow, huge]) {
        const attempts = await Promise.all([login(username), login(username), login(username)])
        for (const answer of attempts) {
          assert.equal(answer.status, 401, username)
          assert.deepEqual(withoutInstance(answer.json), withoutInstance(wrong.json))
        }
      }
      // Everyone else still signs in while those attempts were made.
      assert.equal((await login(normal)).status, 200)
      const admin = await signedInAdmin(server)
      const trail = await server.request('/v1/admin/audit?type=login_failed', { bearer: admin.access_token })
      const flagged = trail.json.events.filter((event: { reason: string }) => event.reason === 'unusable_password_hash')
      assert.equal(flagged.length, 6)
    },
  )
})

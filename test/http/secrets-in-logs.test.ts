/**
 * AU-03 and AU-04: a full scenario at debug level, then every log line, the JSON-lines export
 * of the audit trail and the audit rows are searched for every secret the scenario used:
 * passwords (right and wrong), access, refresh and session tokens (raw and decoded), cookies,
 * bearer headers, PHC hashes and the private JWK. None may appear.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createAccount, startAuditServer } from '../helpers/audit-server.ts'

describe('no secret in logs or in the audit trail', () => {
  it('a full scenario leaves no password, token, cookie, hash or private key in any log line or audit row', async (t) => {
    const server = await startAuditServer(t, {}, { logLevel: 'debug' })
    const secrets: string[] = []
    const adminPassword = 'admin-pass Zq7 correct horse'
    const password = 'user-pass Kx4 battery staple'
    const wrongPassword = 'wrong-pass Wv2 not the one'
    const newPassword = 'new-pass Jh8 another staple'
    secrets.push(adminPassword, password, wrongPassword, newPassword)
    await createAccount(server, 'root', adminPassword, ['admin', 'user'])

    assert.equal((await server.request('/v1/auth/register', { body: { username: 'ivan', password } })).status, 201)
    await server.request('/v1/auth/login', { body: { username: 'ivan', password: wrongPassword } })
    await server.request('/v1/auth/login', { body: { username: 'ghost', password: wrongPassword } })
    const token = (await server.request('/v1/auth/login', { body: { username: 'ivan', password } })).json
    const cookie = await server.request('/v1/auth/login', { body: { username: 'ivan', password, mode: 'cookie' } })
    const cookieValue = /__Host-session=([^;]*)/.exec(cookie.headers.get('set-cookie') ?? '')?.[1] ?? ''
    secrets.push(token.access_token, token.refresh_token, cookieValue, cookie.json.csrf_token)
    await server.request('/v1/me', { bearer: token.access_token })
    await server.request('/v1/me', { cookie: `__Host-session=${cookieValue}` })
    const refreshed = (await server.request('/v1/auth/refresh', { body: { refresh_token: token.refresh_token } })).json
    secrets.push(refreshed.access_token, refreshed.refresh_token)
    const other = (await server.request('/v1/auth/login', { body: { username: 'ivan', password } })).json
    const otherRefreshed = (await server.request('/v1/auth/refresh', { body: { refresh_token: other.refresh_token } }))
      .json
    secrets.push(other.access_token, other.refresh_token, otherRefreshed.refresh_token, otherRefreshed.access_token)
    assert.equal(
      (await server.request('/v1/auth/refresh', { body: { refresh_token: other.refresh_token } })).status,
      400,
    )
    await server.request('/v1/me?access_token=' + refreshed.access_token)
    await server.request('/v1/me', { bearer: `${refreshed.access_token}x` })
    const changedResponse = await server.request('/v1/me/password', {
      bearer: refreshed.access_token,
      body: { current_password: password, new_password: newPassword },
    })
    assert.equal(changedResponse.status, 200)
    const changed = changedResponse.json
    secrets.push(changed.access_token, changed.refresh_token)
    await server.request('/v1/auth/logout', { method: 'POST', bearer: changed.access_token })
    // A log-injection attempt: the log stays one JSON object per line (AU-04).
    const hostile = 'evil\n{"type":"login.success","user":"admin"}\r\n\u001b[31m'
    await server.request('/v1/auth/login', { body: { username: hostile, password: wrongPassword } })
    // An audit write that fails: the login is refused (503) and the event goes to the log.
    const appendEvents = server.stores.audit.appendEvents
    server.stores.audit.appendEvents = async () => {
      throw new Error('disk I/O error')
    }
    const refused = await server.request('/v1/auth/login', { body: { username: 'ivan', password: wrongPassword } })
    assert.equal(refused.status, 503)
    assert.equal(refused.json.code, 'service_unavailable')
    server.stores.audit.appendEvents = appendEvents
    const fallback = server.logLines
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === 'audit write failed; operation refused')
    assert.equal(fallback?.auditEvent?.type, 'login_failed')
    assert.equal(fallback?.auditEvent?.reason, 'bad_password')
    const admin = (await server.request('/v1/auth/login', { body: { username: 'root', password: adminPassword } })).json
    secrets.push(admin.access_token, admin.refresh_token)
    const exported = (await server.request('/v1/admin/audit?format=jsonl', { bearer: admin.access_token })).text
    assert.ok(exported.split('\n').length > 15, exported.slice(0, 300))

    const users = await server.application.accountAdmin.listUsers({ after: null, limit: 10 })
    const hashes = users.map((user) => user.passwordHash)
    const privateJwks = await server.stores.signingKeys.listUsableSigningKeys(server.clock.now())
    const decoded = secrets.flatMap((secret) => {
      const bytes = Buffer.from(secret, 'base64url')
      return bytes.length >= 16 ? [bytes.toString('hex')] : []
    })
    const needles = [
      ...secrets,
      ...decoded,
      ...hashes,
      '$argon2id$',
      'Bearer ',
      'Cookie:',
      '__Host-session=',
      ...privateJwks.map((key) => key.privateJwkCiphertext),
    ]
    const haystacks = { log: server.logLines.join('\n'), export: exported }
    assert.ok(server.logLines.length > 20, 'the scenario was logged')
    assert.ok(needles.every((needle) => typeof needle === 'string' && needle.length >= 7))
    for (const [name, haystack] of Object.entries(haystacks)) {
      for (const needle of needles) {
        assert.equal(haystack.includes(needle), false, `${name} contains ${needle.slice(0, 12)}…`)
      }
    }
    for (const line of server.logLines) {
      const parsed = JSON.parse(line) as Record<string, unknown>
      assert.equal(typeof parsed, 'object')
    }
    // The hostile name named no account: the trail keeps only its keyed digest (#11 item 8).
    assert.ok(!exported.includes('evil'))
    const unknownNames = exported
      .split('\n')
      .filter((line) => line.includes('"unknown_user"'))
      .map((line) => JSON.parse(line).username)
    assert.equal(unknownNames.length, 2)
    for (const name of unknownNames) assert.match(name, /^~[A-Za-z0-9_-]{16}$/)
  })
})

/**
 * The server as `tessera serve` runs it sends mail through the SMTP relay it is configured with
 * (nodemailer is loaded only then, see src/runtime.ts): a registration with an address mails its
 * verification link to a real SMTP server started by the test.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { startTestSmtpServer } from '../helpers/smtp-server.ts'
import { startTesseraProcess } from '../helpers/tessera-process.ts'

describe('mail from the server process', () => {
  it('mails the verification link of a registration through the configured relay', async (t) => {
    const smtp = await startTestSmtpServer(t)
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-server-mail-'))
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const server = await startTesseraProcess({
      TESSERA_DATA_DIR: join(dataDir, 'data'),
      TESSERA_SMTP_URL: smtp.url,
      TESSERA_MAIL_FROM: 'Tessera <no-reply@tessera.test>',
      TESSERA_ARGON2_MEMORY_KIB: '12288',
      TESSERA_ARGON2_PASSES: '3',
      TESSERA_LOG_LEVEL: 'warn',
    })
    t.after(() => server.stop())
    const address = 'mail-from-the-process@example.com'
    const registered = await fetch(`${server.url}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'mailed', password: 'correct horse battery staple', email: address }),
    })
    assert.equal(registered.status, 201, await registered.text())
    const mail = await smtp.nextMailTo(address)
    assert.match(mail.text, /verify-email/)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, describeConfig, loadConfig } from './load.ts'

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return assert.fail('expected a ConfigError')
}

const complete = {
  TESSERA_SMTP_URL: 'smtps://mailer%40example.com:s3cret-pass@smtp.example.com:465',
  TESSERA_MAIL_FROM: 'Tessera <no-reply@example.com>',
  TESSERA_MAIL_LINK_URL: 'https://app.example.com/account',
}

describe('mail settings', () => {
  it('send no mail unless an SMTP URL is set, with the defaults of reset', () => {
    const config = loadConfig({})
    assert.equal(config.mail.smtp, null)
    assert.equal(config.mail.passwordResetTtlSeconds, 900)
    assert.equal(config.mail.mailsPerHour, 3)
  })

  it('take an smtp:// or smtps:// URL with a From address and a link URL, and mask its password', () => {
    const config = loadConfig(complete)
    assert.deepEqual(config.mail.smtp, {
      url: complete.TESSERA_SMTP_URL,
      from: complete.TESSERA_MAIL_FROM,
      timeoutSeconds: 10,
    })
    assert.equal(config.mail.linkBaseUrl, 'https://app.example.com/account')
    const shown = JSON.stringify(describeConfig(config))
    assert.ok(!shown.includes('s3cret-pass'))
  })

  it('refuse another scheme, and an SMTP URL without its From address or link URL', () => {
    assert.match(
      problemsOf({ ...complete, TESSERA_SMTP_URL: 'http://smtp.example.com' }).join('\n'),
      /TESSERA_SMTP_URL: expected smtp:/,
    )
    assert.match(
      problemsOf({ TESSERA_SMTP_URL: complete.TESSERA_SMTP_URL }).join('\n'),
      /TESSERA_MAIL_FROM: must be set/,
    )
    assert.match(
      problemsOf({ TESSERA_SMTP_URL: complete.TESSERA_SMTP_URL, TESSERA_PAGES_ENABLED: 'false' }).join('\n'),
      /TESSERA_MAIL_LINK_URL: must be set/,
    )
  })

  it('point the links at the hosted pages of the public URL when no link URL is set and the pages are on', () => {
    const { TESSERA_MAIL_LINK_URL: _unused, ...withoutLinkUrl } = complete
    const config = loadConfig({ ...withoutLinkUrl, TESSERA_PUBLIC_URL: 'https://id.example.com' })
    assert.equal(config.mail.linkBaseUrl, 'https://id.example.com')
    assert.doesNotMatch(problemsOf({ TESSERA_SMTP_URL: complete.TESSERA_SMTP_URL }).join('\n'), /TESSERA_MAIL_LINK_URL/)
  })
})

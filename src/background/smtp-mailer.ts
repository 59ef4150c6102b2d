/**
 * The SMTP side of mail: nodemailer over one relay URL (TESSERA_SMTP_URL). Every stage of the
 * conversation is bounded (connection, greeting, each socket read), and the outbox bounds the
 * whole job (src/core/email/mailer.ts). Nodemailer's own logger stays off: its debug output
 * would carry the message, and with it the link it holds.
 */
import nodemailer from 'nodemailer'
import type { Mailer } from '../core/email/mailer.ts'

export function createSmtpMailer(settings: {
  url: string
  from: string
  timeoutSeconds: number
}): Mailer & { close(): void } {
  const timeoutMs = settings.timeoutSeconds * 1000
  const url = new URL(settings.url)
  const transport = nodemailer.createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (url.protocol === 'smtps:' ? 465 : 587) : Number(url.port),
    secure: url.protocol === 'smtps:',
    ...(url.username === ''
      ? {}
      : { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    logger: false,
    debug: false,
  })
  return {
    async send(message) {
      await transport.sendMail({
        from: settings.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      })
    },
    close: () => transport.close(),
  }
}

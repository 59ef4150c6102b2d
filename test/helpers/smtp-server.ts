/**
 * A real SMTP server inside the test (the `smtp-server` package), on 127.0.0.1 and a free port:
 * Tessera sends to it through nodemailer exactly as to a relay, and the test reads each message
 * it received, parsed by `mailparser`.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail {
  from: string
  to: string[]
  subject: string
  text: string
  html: string
  /** The raw message as the relay received it. */
  raw: string
}

export interface TestSmtpServer {
  /** For TESSERA_SMTP_URL. */
  url: string
  received: ReceivedMail[]
  /** The next message to `address` not yet taken, waiting for it up to `timeoutMs`. */
  nextMailTo(address: string, timeoutMs?: number): Promise<ReceivedMail>
}

export async function startTestSmtpServer(t: TestContext): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = []
  const taken = new Set<ReceivedMail>()
  const waiters: Array<() => void> = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        simpleParser(raw)
          .then((parsed) => {
            received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((recipient) => recipient.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              raw,
            })
            for (const wake of waiters.splice(0)) wake()
            callback()
          })
          .catch((error: Error) => callback(error))
      })
    },
  })
  server.listen(0, '127.0.0.1')
  await once(server.server, 'listening')
  const { port } = server.server.address() as AddressInfo
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    async nextMailTo(address, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const mail = received.find((candidate) => !taken.has(candidate) && candidate.to.includes(address))
        if (mail) {
          taken.add(mail)
          return mail
        }
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`no mail to ${address} within ${timeoutMs} ms`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          waiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
    },
  }
}

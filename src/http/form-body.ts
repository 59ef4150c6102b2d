/**
 * `application/x-www-form-urlencoded` bodies, for the OAuth endpoints only (RFC 7662 and RFC
 * 7009 define their requests as forms); the rest of the API stays JSON-only, which is part of
 * its CSRF defence. Parsing is strict: printable ASCII only (anything else must be
 * percent-encoded), valid percent-escapes of valid UTF-8, and no parameter twice (RFC 6749
 * §3.1), so two layers can never read two different values from one request.
 */
import type { FastifyInstance } from 'fastify'
import { TesseraError } from '../core/errors.ts'

const maxParameters = 16

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    throw new TesseraError('validation_failed', 'The form body has an invalid percent-encoding.')
  }
}

/** The parameters of a form body; a null-prototype object, so no name can reach a prototype. */
export function parseFormBody(body: Uint8Array): Record<string, string> {
  const parameters: Record<string, string> = Object.create(null)
  if (body.length === 0) return parameters
  for (const byte of body) {
    if (byte < 0x21 || byte > 0x7e) {
      throw new TesseraError('validation_failed', 'The form body must be percent-encoded ASCII.')
    }
  }
  const pairs = new TextDecoder().decode(body).split('&')
  if (pairs.length > maxParameters)
    throw new TesseraError('validation_failed', 'The form body has too many parameters.')
  for (const pair of pairs) {
    const separator = pair.indexOf('=')
    const name = decodeComponent(separator === -1 ? pair : pair.slice(0, separator))
    const value = separator === -1 ? '' : decodeComponent(pair.slice(separator + 1))
    if (name === '') throw new TesseraError('validation_failed', 'The form body has an empty parameter name.')
    if (Object.hasOwn(parameters, name)) {
      throw new TesseraError('validation_failed', 'A form parameter appears more than once.', {
        details: { field: name },
      })
    }
    parameters[name] = value
  }
  return parameters
}

/** Makes the (encapsulated) plugin `app` accept forms and nothing else. */
export function acceptOnlyFormBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = /;\s*charset=("?)([^";]+)\1/i.exec(request.headers['content-type'] ?? '')?.[2]
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      done(new TesseraError('unsupported_media_type', 'Send the form encoded as UTF-8.'), undefined)
      return
    }
    try {
      done(null, parseFormBody(body as Buffer))
    } catch (error) {
      done(error as Error, undefined)
    }
  })
}

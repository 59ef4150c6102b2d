/** The request body parser of JSON media types (application/json, and JSON Merge Patch where a route takes one). */
import type { FastifyInstance } from 'fastify'
import { TesseraError } from '../core/errors.ts'
import { locateJsonBreak } from './json-syntax-error.ts'

/**
 * JSON only, in UTF-8 only. Bytes are decoded strictly (invalid UTF-8 is refused rather than
 * turned into U+FFFD) and `__proto__` / `constructor.prototype` keys are refused.
 */
export function registerJsonParser(
  app: FastifyInstance,
  contentType: 'application/json' | 'application/merge-patch+json',
): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  app.addContentTypeParser(contentType, { parseAs: 'buffer' }, (request, body, done) => {
    const charset = /;\s*charset=("?)([^";]+)\1/i.exec(request.headers['content-type'] ?? '')?.[2]
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      done(
        new TesseraError('unsupported_media_type', `Send the body as ${contentType} in UTF-8 (no other charset).`),
        undefined,
      )
      return
    }
    let text: string
    try {
      text = decoder.decode(body as Buffer)
    } catch {
      done(new TesseraError('validation_failed', 'The request body is not valid UTF-8.'), undefined)
      return
    }
    if (text.startsWith('\ufeff')) {
      done(new TesseraError('validation_failed', 'The request body must not start with a byte order mark.'), undefined)
      return
    }
    parseJson(request, text, (error, parsed) => {
      if (error === null) {
        done(null, parsed)
        return
      }
      // The parser also refuses prototype keys in valid JSON; only a syntax error has a place.
      const place = isSyntaxError(text) ? locateJsonBreak(text, error) : null
      if (place === null) {
        done(error, undefined)
        return
      }
      done(
        new TesseraError(
          'validation_failed',
          `The request body is not valid JSON: it breaks at line ${place.line}, column ${place.column} (character ${place.position}).`,
          { details: { position: place.position, line: place.line, column: place.column } },
        ),
        undefined,
      )
    })
  })
}

function isSyntaxError(text: string): boolean {
  try {
    JSON.parse(text)
    return false
  } catch {
    return true
  }
}

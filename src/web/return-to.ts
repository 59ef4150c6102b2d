/**
 * Where a page may send the browser after a sign-in: a path of this server, or a URL on one of
 * the configured origins (the public URL's and TESSERA_ALLOWED_ORIGINS), and nowhere else; an
 * open redirect would let a phishing link borrow this server's name.
 *
 * The value is parsed the way browsers parse a Location header (WHATWG URL), and what is
 * returned, and later sent, is that parse re-serialised: a browser cannot read it differently
 * from the check. On top of that, anything a parser might bend is refused outright: backslashes,
 * control characters and whitespace (WHATWG drops tabs and newlines, so `/\t/evil` is
 * `//evil`), user information (`https://allowed@evil`), other schemes, and paths that start
 * with two slashes (`//evil.example`, a scheme-relative URL), before or after dot segments.
 */

const maxReturnToLength = 2048

export type ReturnTo = { kind: 'path'; path: string } | { kind: 'url'; url: string }

/**
 * The validated destination, or null when `value` is not an allowed one. `publicOrigin` is
 * this server's origin; `allowedOrigins` includes it.
 */
export function parseReturnTo(value: string, publicOrigin: string, allowedOrigins: readonly string[]): ReturnTo | null {
  if (value.length === 0 || value.length > maxReturnToLength) return null
  // Printable ASCII only, no space and no backslash: a browser would percent-encode the rest
  // before sending anyway, so a real link never needs them.
  if (!/^[\x21-\x7e]+$/.test(value) || value.includes('\\')) return null
  if (value.startsWith('/')) {
    if (value.startsWith('//')) return null
    const url = new URL(value, publicOrigin)
    if (url.origin !== publicOrigin) return null
    return toOwnPath(url)
  }
  if (!URL.canParse(value)) return null
  const url = new URL(value)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
  if (url.username !== '' || url.password !== '') return null
  // The scheme must be followed by `//host` as written: `https:evil` parses too, differently
  // in different places.
  if (!value.toLowerCase().startsWith(`${url.protocol}//`)) return null
  if (!allowedOrigins.includes(url.origin)) return null
  if (url.origin === publicOrigin) return toOwnPath(url)
  return { kind: 'url', url: url.href }
}

/**
 * A URL of this server as a path to send. Dot segments can leave two slashes at the start
 * (`/.//evil.example` has the path `//evil.example`), which a browser would read as another
 * host: refused.
 */
function toOwnPath(url: URL): ReturnTo | null {
  if (url.pathname.startsWith('//')) return null
  return { kind: 'path', path: `${url.pathname}${url.search}${url.hash}` }
}

/** The Location to send for a validated destination. */
export function describeReturnTo(returnTo: ReturnTo): string {
  return returnTo.kind === 'path' ? returnTo.path : returnTo.url
}

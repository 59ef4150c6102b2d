/**
 * Headers of the HTML pages, on top of those every answer carries (http/plugins/security-headers.ts,
 * whose `default-src 'none'` policy this one replaces for pages only). The policy has no
 * `unsafe-inline` and no nonce: scripts and styles are files of this server, nothing inline
 * runs or applies. Forms may post here and redirect to the allowed origins (a `return_to`), and
 * no page may be framed.
 */
export function buildContentSecurityPolicy(options: {
  logoUrl: string | null
  allowedOrigins: readonly string[]
  allowsDataImages?: boolean
}): string {
  const logoOrigin = options.logoUrl !== null && URL.canParse(options.logoUrl) ? new URL(options.logoUrl).origin : null
  const imageSources = ["'self'", ...(logoOrigin ? [logoOrigin] : []), ...(options.allowsDataImages ? ['data:'] : [])]
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${imageSources.join(' ')}`,
    "connect-src 'self'",
    // Chromium applies form-action to the redirect that follows a POST too.
    `form-action 'self' ${options.allowedOrigins.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ')
}

const repliesWithDataImages = new WeakSet<object>()

/**
 * Lets this answer show `data:` images (the QR code of a TOTP secret, made on the server and
 * never stored). Every other page keeps `img-src` to this server and the logo.
 */
export function allowDataImages(reply: object): void {
  repliesWithDataImages.add(reply)
}

export function allowsDataImages(reply: object): boolean {
  return repliesWithDataImages.has(reply)
}

export const pageHeaders = {
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
  // Not no-referrer: under it a browser sends `Origin: null` with a form POST, and the origin
  // check could not tell the pages' own forms from a forged one. Other sites still get nothing.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
} as const

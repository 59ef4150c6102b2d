/**
 * A last line of defence for the server log: walks each log object (to a bounded depth) and
 * censors values under secret-sounding keys, and strings that look like a credential whatever
 * their key (a PHC or bcrypt hash, a bearer header, a JWT). The redaction paths in the logger
 * options cover the known places; this covers an error that drags a secret along somewhere new.
 */
const secretKey =
  /^(pass(word|phrase)?|current_password|new_password|secret|client_secret|token|access_token|refresh_token|session_token|authorization|cookie|set-cookie|password_?hash|private_?jwk\w*|d|p|q|dp|dq|qi|k)$/i
const credentialText = /^\$(argon2(id|i|d)|2[aby])\$|^Bearer\s|^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./
const maxDepth = 6
const censor = '[redacted]'

function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return credentialText.test(value) ? censor : value
  if (typeof value !== 'object' || value === null || depth >= maxDepth) return value
  if (seen.has(value)) return value
  seen.add(value)
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, seen))
  if (value instanceof Error) {
    // Keep errors recognisable for pino's serializer; scrub only their message.
    if (credentialText.test(value.message)) value.message = censor
    return value
  }
  const prototype = Object.getPrototypeOf(value)
  // Requests and replies are shaped by their serializers (path only, no headers): leave them be.
  if (prototype !== Object.prototype && prototype !== null) return value
  const copy: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    copy[key] =
      secretKey.test(key) && inner !== null && typeof inner !== 'boolean' ? censor : scrub(inner, depth + 1, seen)
  }
  return copy
}

export function scrubLogObject(object: Record<string, unknown>): Record<string, unknown> {
  return scrub(object, 0, new WeakSet()) as Record<string, unknown>
}

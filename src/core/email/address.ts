/**
 * Email addresses as Tessera keeps them. An address is trimmed and put in Unicode NFC; its
 * domain is lower-cased (domains are case-insensitive, RFC 5321 §2.4). The local part is kept as
 * typed, because only the receiving server may interpret it (RFC 5321 §2.4: it MAY be
 * case-sensitive), so mail goes to exactly what the user gave. Uniqueness, and lookups by
 * address, use the key: the whole address lower-cased, because in practice mailbox names are
 * case-insensitive and two accounts on `Ann@x` and `ann@x` would be one mailbox with two owners.
 * No other folding (dots, `+tags`) is done: those rules belong to single providers.
 */
import { TesseraError } from '../errors.ts'

export interface EmailAddress {
  /** The address mail is sent to: trimmed, NFC, domain lower-cased, local part as typed. */
  address: string
  /** The address lower-cased: unique among accounts, and what lookups compare. */
  key: string
}

/** RFC 5321 §4.5.3.1: 64 octets of local part, 254 of path in practice (RFC 3696 erratum 1690). */
const maxLocalPartBytes = 64
const maxAddressBytes = 254
// Printable characters other than whitespace, quotes, brackets and the separators an address
// cannot hold unquoted; quoted local parts are not accepted (nobody's mailbox needs one).
const localPartPattern = /^[\p{L}\p{N}\p{M}!#$%&'*+\-/=?^_`{|}~.]+$/u
const domainLabelPattern = /^[\p{L}\p{N}\p{M}](?:[\p{L}\p{N}\p{M}-]{0,61}[\p{L}\p{N}\p{M}])?$/u

function refuse(): TesseraError {
  return new TesseraError(
    'invalid_email',
    'Give one email address such as name@example.com (no spaces, no display name).',
  )
}

/** The normalised address and its key; throws `invalid_email`. */
export function normalizeEmailAddress(input: string): EmailAddress {
  if (!input.isWellFormed()) throw refuse()
  const trimmed = input.trim().normalize('NFC')
  const at = trimmed.lastIndexOf('@')
  if (at <= 0 || at === trimmed.length - 1) throw refuse()
  const localPart = trimmed.slice(0, at)
  const domain = trimmed.slice(at + 1).toLowerCase()
  if (
    !localPartPattern.test(localPart) ||
    localPart.startsWith('.') ||
    localPart.endsWith('.') ||
    localPart.includes('..')
  ) {
    throw refuse()
  }
  const labels = domain.split('.')
  if (labels.length < 2 || !labels.every((label) => domainLabelPattern.test(label))) throw refuse()
  const address = `${localPart}@${domain}`
  if (Buffer.byteLength(localPart) > maxLocalPartBytes || Buffer.byteLength(address) > maxAddressBytes) throw refuse()
  return { address, key: address.toLowerCase() }
}

/**
 * The key prefix to search with for a partial address an operator typed (no validation beyond
 * the form): trimmed, NFC, lower-cased.
 */
export function normalizeEmailPrefix(input: string): string {
  return input.trim().normalize('NFC').toLowerCase()
}

/**
 * Event ids are UUID version 7 (RFC 9562): 48 bits of milliseconds, then random bits. Sorting
 * by id follows time, so `(occurredAt, id)` is a total order for cursors across nodes.
 */
import { randomBytes } from 'node:crypto'

export function createEventId(at: Date): string {
  const bytes = randomBytes(16)
  const ms = BigInt(at.getTime())
  for (let index = 0; index < 6; index += 1) {
    bytes[index] = Number((ms >> BigInt(8 * (5 - index))) & 0xffn)
  }
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f)
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * Event ids are UUID version 7 (RFC 9562): 48 bits of milliseconds, then a 12-bit counter
 * (RFC 9562 §6.2, method 1) and random bits. Ids from one node sort in the order they were made,
 * even within a millisecond, so `(occurredAt, id)` is a total order for cursors that follows
 * recording order on each node.
 */
import { randomBytes, randomInt } from 'node:crypto'

export type EventIdSequence = (at: Date) => string

export function createEventIdSequence(): EventIdSequence {
  let lastMs = -1
  let counter = 0
  return (at) => {
    let ms = at.getTime()
    if (ms <= lastMs) {
      counter += 1
      ms = lastMs
      if (counter > 0xfff) {
        // Counter exhausted within one millisecond: borrow the next one (ids stay ordered).
        ms += 1
        counter = 0
      }
    } else {
      // A random start leaves room to count up and keeps ids of one millisecond unguessable.
      counter = randomInt(0, 0x800)
    }
    lastMs = ms
    const bytes = randomBytes(16)
    const time = BigInt(ms)
    for (let index = 0; index < 6; index += 1) bytes[index] = Number((time >> BigInt(8 * (5 - index))) & 0xffn)
    bytes[6] = 0x70 | (counter >> 8)
    bytes[7] = counter & 0xff
    bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f)
    const hex = bytes.toString('hex')
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }
}

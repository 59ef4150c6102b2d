/**
 * Where a JSON body breaks, to tell the client without quoting it: V8's messages quote the input
 * ("Unexpected token 's', ..."password": secret..."), which may be a password, so they are never
 * sent. The position comes from V8 when its message gives one. For the errors where it does not
 * (an unexpected token, a bare word such as NaN), a scan of the grammar finds the first offset
 * where the text stops being JSON. The scan keeps its nesting in an array, not on the call
 * stack: a body of 10,000 `[` must not overflow it (the recursive parsers of JSON libraries do).
 */

export interface JsonBreak {
  /** Offset in characters (UTF-16 code units) from the start of the body, 0-based. */
  position: number
  /** 1-based line and column of that offset. */
  line: number
  column: number
}

type Expected = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end'

const whitespace = new Set([' ', '\t', '\n', '\r'])
const simpleEscapes = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])
const isDigit = (character: string | undefined) => character !== undefined && character >= '0' && character <= '9'
const isHexDigit = (character: string | undefined) => character !== undefined && /^[0-9a-fA-F]$/.test(character)

/** The end of the string starting at `start` (its closing quote + 1), or the offset where it breaks as -(offset + 1). */
function scanString(text: string, start: number): number {
  let index = start + 1
  while (index < text.length) {
    const character = text[index] ?? ''
    if (character === '"') return index + 1
    if (character.charCodeAt(0) < 0x20) return -(index + 1)
    if (character === '\\') {
      const escaped = text[index + 1]
      if (escaped !== undefined && simpleEscapes.has(escaped)) {
        index += 2
      } else if (escaped === 'u') {
        const wrongDigit = [2, 3, 4, 5].find((offset) => !isHexDigit(text[index + offset]))
        if (wrongDigit !== undefined) return -(index + wrongDigit + 1)
        index += 6
      } else {
        return -(index + 2)
      }
    } else {
      index += 1
    }
  }
  return -(text.length + 1)
}

/** Like scanString, for a number starting at `start`. */
function scanNumber(text: string, start: number): number {
  let index = start
  if (text[index] === '-') index += 1
  if (text[index] === '0') index += 1
  else if (isDigit(text[index])) while (isDigit(text[index])) index += 1
  else return -(index + 1)
  if (text[index] === '.') {
    index += 1
    if (!isDigit(text[index])) return -(index + 1)
    while (isDigit(text[index])) index += 1
  }
  if (text[index] === 'e' || text[index] === 'E') {
    index += 1
    if (text[index] === '+' || text[index] === '-') index += 1
    if (!isDigit(text[index])) return -(index + 1)
    while (isDigit(text[index])) index += 1
  }
  return index
}

/** Like scanString, for `true`, `false` or `null`; a word breaks at its first wrong letter. */
function scanLiteral(text: string, start: number): number {
  const word = ['true', 'false', 'null'].find((candidate) => candidate[0] === text[start])
  if (word === undefined) return -(start + 1)
  for (let offset = 1; offset < word.length; offset += 1) {
    if (text[start + offset] !== word[offset]) return -(start + offset + 1)
  }
  return start + word.length
}

/** The offset of the first character where `text` stops being JSON (RFC 8259), or null if it is JSON. */
export function findJsonBreak(text: string): number | null {
  const open: Array<'{' | '['> = []
  let expected: Expected = 'value'
  let index = 0
  const afterValue = (): Expected => (open.length === 0 ? 'end' : 'comma-or-close')
  for (;;) {
    while (index < text.length && whitespace.has(text[index] ?? '')) index += 1
    if (index >= text.length) return expected === 'end' ? null : text.length
    const character = text[index]
    if (expected === 'end') return index
    if (expected === 'colon') {
      if (character !== ':') return index
      index += 1
      expected = 'value'
      continue
    }
    if (expected === 'comma-or-close') {
      const innermost = open.at(-1)
      if (character === ',') {
        index += 1
        expected = innermost === '{' ? 'key' : 'value'
      } else if ((character === '}' && innermost === '{') || (character === ']' && innermost === '[')) {
        open.pop()
        index += 1
        expected = afterValue()
      } else {
        return index
      }
      continue
    }
    if ((expected === 'key-or-close' && character === '}') || (expected === 'value-or-close' && character === ']')) {
      open.pop()
      index += 1
      expected = afterValue()
      continue
    }
    if (expected === 'key' || expected === 'key-or-close') {
      if (character !== '"') return index
      const end = scanString(text, index)
      if (end < 0) return -end - 1
      index = end
      expected = 'colon'
      continue
    }
    // A value.
    if (character === '{' || character === '[') {
      open.push(character)
      index += 1
      expected = character === '{' ? 'key-or-close' : 'value-or-close'
      continue
    }
    let end: number
    if (character === '"') end = scanString(text, index)
    else if (character === '-' || isDigit(character)) end = scanNumber(text, index)
    else end = scanLiteral(text, index)
    if (end < 0) return -end - 1
    index = end
    expected = afterValue()
  }
}

function findPosition(text: string, message: string): number | null {
  const given = / at position (\d+)/.exec(message)?.[1]
  if (given !== undefined) return Number(given)
  if (/^Unexpected end of JSON input/.test(message)) return text.length
  return findJsonBreak(text)
}

/** The place where `text` stops being JSON, given the error JSON.parse threw for it. */
export function locateJsonBreak(text: string, error: unknown): JsonBreak | null {
  const position = findPosition(text, error instanceof Error ? error.message : '')
  if (position === null || position > text.length) return null
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - (before.lastIndexOf('\n') + 1) + 1
  return { position, line, column }
}

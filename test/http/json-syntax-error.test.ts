/**
 * The JSON break finder against V8's own parser: on valid JSON it finds nothing, and wherever
 * V8 names a position for a broken body, it names the same one.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { findJsonBreak, locateJsonBreak } from '../../src/http/json-syntax-error.ts'

// A small deterministic generator (no Math.random: a failure must replay).
function createRandom(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state / 2 ** 31
  }
}

function randomValue(random: () => number, depth: number): unknown {
  const pick = random()
  if (depth > 3 || pick < 0.3) {
    return [null, true, false, -0.5e-3, 1234, 'tëxt "quoted" \\ \n\u0001', ''][Math.floor(random() * 7)]
  }
  if (pick < 0.65) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1))
  return Object.fromEntries(
    Array.from({ length: Math.floor(random() * 4) }, (_, index) => [`k${index}`, randomValue(random, depth + 1)]),
  )
}

const noise = ['{', '}', '[', ']', ',', ':', '"', '\\', 'x', '0', '-', '.', 'e', ' ', '\n', 't', 'n', '\u0002']

describe('findJsonBreak()', () => {
  it('finds nothing in valid JSON and the position V8 names in broken JSON', () => {
    const random = createRandom(7)
    let compared = 0
    for (let round = 0; round < 3000; round += 1) {
      const valid = JSON.stringify(randomValue(random, 0), null, random() < 0.5 ? 2 : undefined) ?? 'null'
      assert.equal(findJsonBreak(valid), null, valid)
      const at = Math.floor(random() * (valid.length + 1))
      const broken =
        random() < 0.5
          ? valid.slice(0, at) + valid.slice(at + 1)
          : valid.slice(0, at) + noise[Math.floor(random() * noise.length)] + valid.slice(at)
      try {
        JSON.parse(broken)
        assert.equal(findJsonBreak(broken), null, broken)
      } catch (error) {
        const named = / at position (\d+)/.exec((error as Error).message)?.[1]
        if (named === undefined) {
          assert.notEqual(findJsonBreak(broken), null, broken)
          continue
        }
        compared += 1
        assert.equal(findJsonBreak(broken), Number(named), `${JSON.stringify(broken)}: ${(error as Error).message}`)
      }
    }
    assert.ok(compared > 500)
  })

  it('survives deep nesting without recursion', () => {
    assert.equal(findJsonBreak('['.repeat(200_000)), 200_000)
    assert.equal(findJsonBreak(`${'['.repeat(200_000)}x`), 200_000)
    assert.equal(findJsonBreak('['.repeat(50_000) + ']'.repeat(50_000)), null)
  })

  it('gives lines and columns counted from 1', () => {
    const text = '{\n  "a": 1,\n  "b": nope\n}'
    let error: unknown
    try {
      JSON.parse(text)
    } catch (caught) {
      error = caught
    }
    assert.deepEqual(locateJsonBreak(text, error), { position: 20, line: 3, column: 9 })
  })
})

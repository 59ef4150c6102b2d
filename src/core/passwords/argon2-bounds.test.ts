import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createHashLimiter } from './hash-limiter.ts'
import { describeArgon2Refusal, fitArgon2Parameters } from './argon2-bounds.ts'
import { hashPassword, type Argon2Parameters } from './argon2id.ts'
import { createPasswordHasher } from './password-hasher.ts'

const defaults: Argon2Parameters = { memoryKiB: 19456, passes: 2, parallelism: 1 }
const fast: Argon2Parameters = { memoryKiB: 1024, passes: 1, parallelism: 1 }

/** A PHC string with any parameters and a random-looking salt and tag (never computed). */
function phcWith(memory: number | string, passes: number | string, parallelism: number | string): string {
  return `$argon2id$v=19$m=${memory},t=${passes},p=${parallelism}$c29tZXNhbHRzb21lc2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY`
}

// regression: #11 (item 5)
describe('argon2id parameter bounds', () => {
  it('accepts the configured parameters, the OWASP equivalents and what other systems use by default', () => {
    for (const [memoryKiB, passes, parallelism] of [
      [19456, 2, 1],
      [47104, 1, 1],
      [12288, 3, 1],
      [9216, 4, 1],
      [7168, 5, 1],
      [65536, 1, 4],
      [38912, 2, 8],
    ] as const) {
      assert.equal(
        fitArgon2Parameters({ memoryKiB, passes, parallelism }, defaults),
        'within',
        `m=${memoryKiB},t=${passes},p=${parallelism}`,
      )
    }
  })

  it('refuses more than four times the configured cost, in memory or in memory × passes', () => {
    assert.equal(fitArgon2Parameters({ memoryKiB: 19456, passes: 300, parallelism: 1 }, defaults), 'too_costly')
    assert.equal(fitArgon2Parameters({ memoryKiB: 9_999_999_999, passes: 1, parallelism: 1 }, defaults), 'too_costly')
    assert.equal(fitArgon2Parameters({ memoryKiB: 4 * 19456 + 1, passes: 1, parallelism: 1 }, defaults), 'too_costly')
    assert.equal(fitArgon2Parameters({ memoryKiB: 19456, passes: 9, parallelism: 1 }, defaults), 'too_costly')
    assert.equal(fitArgon2Parameters({ memoryKiB: 19456, passes: 8, parallelism: 1 }, defaults), 'within')
  })

  it('refuses hashes below the OWASP floor unless they match a lower configuration', () => {
    assert.equal(fitArgon2Parameters({ memoryKiB: 8, passes: 1, parallelism: 1 }, defaults), 'too_weak')
    assert.equal(fitArgon2Parameters({ memoryKiB: 19455, passes: 2, parallelism: 1 }, defaults), 'too_weak')
    assert.equal(fitArgon2Parameters({ memoryKiB: 47103, passes: 1, parallelism: 1 }, defaults), 'too_weak')
    assert.equal(fitArgon2Parameters(fast, fast), 'within')
  })

  it('refuses parameters argon2 itself cannot compute', () => {
    assert.equal(fitArgon2Parameters({ memoryKiB: 16, passes: 1, parallelism: 4 }, fast), 'invalid')
    assert.equal(fitArgon2Parameters({ memoryKiB: 19456, passes: 0, parallelism: 1 }, defaults), 'invalid')
    assert.equal(fitArgon2Parameters({ memoryKiB: 19456, passes: 2, parallelism: 17 }, defaults), 'invalid')
  })

  it('explains a refusal with the limits that apply', () => {
    assert.match(
      describeArgon2Refusal({ memoryKiB: 19456, passes: 300, parallelism: 1 }, defaults) ?? '',
      /more than 4 times.*77824 KiB/,
    )
    assert.match(
      describeArgon2Refusal({ memoryKiB: 8, passes: 1, parallelism: 1 }, defaults) ?? '',
      /below the OWASP minimum/,
    )
    assert.equal(describeArgon2Refusal(defaults, defaults), null)
  })
})

describe('verification of stored hashes outside the bounds', () => {
  const limiter = createHashLimiter({ concurrency: 2, maxQueue: 10 })
  const hasher = createPasswordHasher({ parameters: fast, limiter })

  it('fails a too costly or impossible hash after a dummy verification, without computing it or throwing', async () => {
    // t=100000 would take minutes and m=9999999999 makes argon2 throw: neither is run.
    for (const phc of [
      phcWith(1024, 100_000, 1),
      phcWith(9_999_999_999, 1, 1),
      phcWith(16, 1, 4),
      '$argon2id$corrupt',
    ]) {
      assert.deepEqual(
        await hasher.verifyPassword('correct horse battery staple', phc),
        { matches: false, isRehashNeeded: false },
        phc,
      )
      assert.equal(hasher.isHashUsable(phc), false, phc)
    }
  })

  it('verifies a hash below the floor and asks for a rehash when it matches', async () => {
    const weak = await hashPassword('correct horse battery staple', { memoryKiB: 64, passes: 1, parallelism: 1 })
    assert.equal(hasher.isHashUsable(weak), true)
    assert.deepEqual(await hasher.verifyPassword('correct horse battery staple', weak), {
      matches: true,
      isRehashNeeded: true,
    })
    assert.deepEqual(await hasher.verifyPassword('wrong horse battery staple', weak), {
      matches: false,
      isRehashNeeded: false,
    })
  })
})

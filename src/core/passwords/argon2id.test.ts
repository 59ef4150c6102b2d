import assert from 'node:assert/strict'
import { argon2Sync } from 'node:crypto'
import { describe, it } from 'node:test'
import { hashPassword, needsRehash, parseArgon2idPhc, verifyPassword, type Argon2Parameters } from './argon2id.ts'

// SECURITY.md PW-08: what a stored hash must look like.
const phcPattern = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22,}\$[A-Za-z0-9+/]{43,}$/

// Small parameters keep the suite fast; the OWASP floor is enforced by loadConfig, not here.
const fast: Argon2Parameters = { memoryKiB: 1024, passes: 1, parallelism: 1 }

// Fixed vectors made with the reference implementation's CLI (phc-winner-argon2), e.g.
// `printf %s 'correct horse battery staple' | argon2 tessera-fixed-salt -id -t 1 -k 1024 -p 1 -l 32 -e`.
const referenceVectors = [
  {
    password: 'correct horse battery staple',
    phc: '$argon2id$v=19$m=1024,t=1,p=1$dGVzc2VyYS1maXhlZC1zYWx0$3BJAsELDTHwO3GKcYfj+eHRZ3Ty18pq43k4ePMuxAdw',
  },
  {
    password: '\u00c5ngstr\u00f6m-fa\u00e7ade',
    phc: '$argon2id$v=19$m=2048,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$bHfTnCys32HIWxYaChGSqmTOqDiaxpefixZI/hbqQd8',
  },
  {
    password: 'pass\u0000word-after-nul',
    phc: '$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$s3TQ722MaQ2c3q7V8s7dYUUIBzdqGY37j5du424tteY',
  },
] as const

function unpaddedBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '')
}

function buildPhc(parameters: Argon2Parameters, salt: Uint8Array, tag: Uint8Array): string {
  const { memoryKiB, passes, parallelism } = parameters
  return `$argon2id$v=19$m=${memoryKiB},t=${passes},p=${parallelism}$${unpaddedBase64(salt)}$${unpaddedBase64(tag)}`
}

describe('argon2id password hashes', () => {
  it('hashPassword() produces a PHC string of the PW-08 form with the given parameters', async () => {
    const phc = await hashPassword('correct horse battery staple', { memoryKiB: 2048, passes: 3, parallelism: 2 })
    const match = phcPattern.exec(phc)
    assert.ok(match, phc)
    assert.deepEqual(match.slice(1, 4), ['2048', '3', '2'])
  })

  it('hashPassword() salts every hash: the same password twice gives different salts and tags', async () => {
    const first = await hashPassword('same password for both', fast)
    const second = await hashPassword('same password for both', fast)
    assert.notEqual(first.split('$')[4], second.split('$')[4])
    assert.notEqual(first.split('$')[5], second.split('$')[5])
  })

  it('hashPassword() uses a 16-byte salt and a 32-byte tag', async () => {
    const parsed = parseArgon2idPhc(await hashPassword('some password here', fast))
    assert.equal(parsed?.salt.length, 16)
    assert.equal(parsed?.tag.length, 32)
  })

  it('verifyPassword() accepts the password a hash was made from', async () => {
    const phc = await hashPassword('correct horse battery staple', fast)
    assert.equal(await verifyPassword('correct horse battery staple', phc), true)
  })

  it('verifyPassword() refuses another password, a prefix and an extension', async () => {
    const phc = await hashPassword('correct horse battery staple', fast)
    assert.equal(await verifyPassword('correct horse battery stapler', phc), false)
    assert.equal(await verifyPassword('correct horse battery', phc), false)
    assert.equal(await verifyPassword('Correct horse battery staple', phc), false)
    assert.equal(await verifyPassword('', phc), false)
  })

  for (const [index, vector] of referenceVectors.entries()) {
    it(`verifyPassword() accepts reference vector ${index + 1} and refuses a wrong password for it`, async () => {
      assert.equal(await verifyPassword(vector.password, vector.phc), true)
      assert.equal(await verifyPassword(`${vector.password}x`, vector.phc), false)
    })
  }

  it('verifyPassword() does not stop at a NUL character', async () => {
    const vector = referenceVectors[2]
    assert.equal(await verifyPassword('pass', vector.phc), false)
  })

  it('the first reference vector is what crypto.argon2Sync computes for the same inputs', () => {
    const salt = Buffer.from('tessera-fixed-salt', 'utf8')
    const tag = argon2Sync('argon2id', {
      message: Buffer.from('correct horse battery staple', 'utf8'),
      nonce: salt,
      memory: 1024,
      passes: 1,
      parallelism: 1,
      tagLength: 32,
    })
    assert.equal(buildPhc(fast, salt, tag), referenceVectors[0].phc)
  })

  it('verifyPassword() refuses a vector whose tag was altered', async () => {
    const { password, phc } = referenceVectors[0]
    const altered = `${phc.slice(0, -1)}${phc.endsWith('A') ? 'B' : 'A'}`
    assert.equal(await verifyPassword(password, altered), false)
  })

  it('verifyPassword() returns false for hashes it cannot read', async () => {
    const { password, phc } = referenceVectors[0]
    const unreadable = [
      '',
      'not a hash',
      phc.replace('$argon2id$', '$argon2i$'),
      phc.replace('$argon2id$', '$argon2d$'),
      phc.replace('v=19', 'v=16'),
      phc.replace('m=1024', 'm=abc'),
      `${phc}$extra`,
      '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
    ]
    for (const hash of unreadable) {
      assert.equal(await verifyPassword(password, hash), false, hash)
      assert.equal(parseArgon2idPhc(hash), null, hash)
    }
  })

  it('needsRehash() is false for a hash made with the configured parameters', async () => {
    const phc = await hashPassword('some password here', fast)
    assert.equal(needsRehash(phc, fast), false)
  })

  it('needsRehash() is true when memory, passes or parallelism change', async () => {
    const phc = await hashPassword('some password here', fast)
    assert.equal(needsRehash(phc, { ...fast, memoryKiB: 2048 }), true)
    assert.equal(needsRehash(phc, { ...fast, passes: 2 }), true)
    assert.equal(needsRehash(phc, { ...fast, parallelism: 2 }), true)
  })

  it('needsRehash() is true for a hash with a short salt and for an unreadable hash', () => {
    // The first reference vector's parameters match, but its salt is 18 bytes and fine; a
    // 12-byte salt is not.
    assert.equal(needsRehash(referenceVectors[0].phc, fast), false)
    const shortSalt = buildPhc(fast, Buffer.alloc(12, 1), Buffer.alloc(32, 2))
    assert.equal(needsRehash(shortSalt, fast), true)
    assert.equal(needsRehash('$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy', fast), true)
  })

  it('needsRehash() is true for a hash with a 16-byte tag', () => {
    const shortTag = buildPhc(fast, Buffer.alloc(16, 1), Buffer.alloc(16, 2))
    assert.notEqual(parseArgon2idPhc(shortTag), null)
    assert.equal(needsRehash(shortTag, fast), true)
  })
})

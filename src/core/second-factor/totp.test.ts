import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  buildOtpauthUri,
  decodeBase32,
  encodeBase32,
  findTotpStep,
  generateHotp,
  generateTotp,
  type TotpAlgorithm,
} from './totp.ts'

const ascii = (text: string) => Uint8Array.from(Buffer.from(text, 'ascii'))

// RFC 6238 Appendix B: one seed per hash (20, 32 and 64 bytes), 8 digits, 30 s steps.
const rfc6238Seeds: Record<TotpAlgorithm, Uint8Array> = {
  SHA1: ascii('12345678901234567890'),
  SHA256: ascii('12345678901234567890123456789012'),
  SHA512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
}

const rfc6238Vectors: Array<[number, Record<TotpAlgorithm, string>]> = [
  [59, { SHA1: '94287082', SHA256: '46119246', SHA512: '90693936' }],
  [1111111109, { SHA1: '07081804', SHA256: '68084774', SHA512: '25091201' }],
  [1111111111, { SHA1: '14050471', SHA256: '67062674', SHA512: '99943326' }],
  [1234567890, { SHA1: '89005924', SHA256: '91819424', SHA512: '93441116' }],
  [2000000000, { SHA1: '69279037', SHA256: '90698825', SHA512: '38618901' }],
  [20000000000, { SHA1: '65353130', SHA256: '77737706', SHA512: '47863826' }],
]

describe('HOTP and TOTP', () => {
  it('generateHotp() gives the RFC 4226 Appendix D values for counters 0 to 9', () => {
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ]
    assert.deepEqual(
      expected.map((_, counter) => generateHotp(rfc6238Seeds.SHA1, counter)),
      expected,
    )
  })

  for (const [seconds, codes] of rfc6238Vectors) {
    for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
      it(`generateTotp() gives the RFC 6238 value at T=${seconds} with ${algorithm}`, () => {
        const parameters = { algorithm, digits: 8, periodSeconds: 30 }
        assert.equal(generateTotp(rfc6238Seeds[algorithm], seconds * 1000, parameters), codes[algorithm])
      })
    }
  }

  it('findTotpStep() accepts the codes of one step before and after now, and no further', () => {
    const secret = rfc6238Seeds.SHA1
    const parameters = { algorithm: 'SHA1' as const, digits: 6, periodSeconds: 30, lastUsedStep: null }
    const nowMs = 1_700_000_015_000
    const step = Math.floor(nowMs / 30_000)
    for (const offset of [-1, 0, 1]) {
      assert.equal(findTotpStep(secret, generateHotp(secret, step + offset), nowMs, parameters), step + offset)
    }
    for (const offset of [-3, -2, 2, 3]) {
      assert.equal(findTotpStep(secret, generateHotp(secret, step + offset), nowMs, parameters), null)
    }
  })

  it('findTotpStep() refuses a code of the last used step or an earlier one (no replay)', () => {
    const secret = rfc6238Seeds.SHA1
    const nowMs = 1_700_000_015_000
    const step = Math.floor(nowMs / 30_000)
    const base = { algorithm: 'SHA1' as const, digits: 6, periodSeconds: 30 }
    const code = generateHotp(secret, step)
    assert.equal(findTotpStep(secret, code, nowMs, { ...base, lastUsedStep: step - 1 }), step)
    assert.equal(findTotpStep(secret, code, nowMs, { ...base, lastUsedStep: step }), null)
    assert.equal(findTotpStep(secret, generateHotp(secret, step - 1), nowMs, { ...base, lastUsedStep: step }), null)
  })

  it('findTotpStep() refuses input that is not exactly the digits of a code', () => {
    const secret = rfc6238Seeds.SHA1
    const nowMs = 1_700_000_015_000
    const code = generateTotp(secret, nowMs)
    const parameters = { algorithm: 'SHA1' as const, digits: 6, periodSeconds: 30, lastUsedStep: null }
    for (const bad of [`${code} `, ` ${code}`, code.slice(1), `${code}0`, '', 'abcdef', '١٢٣٤٥٦']) {
      assert.equal(findTotpStep(secret, bad, nowMs, parameters), null, JSON.stringify(bad))
    }
  })

  it('base32 round-trips and matches RFC 4648 §10', () => {
    assert.equal(encodeBase32(ascii('foobar')), 'MZXW6YTBOI')
    assert.equal(encodeBase32(ascii('f')), 'MY')
    assert.deepEqual(decodeBase32('MZXW6YTBOI'), ascii('foobar'))
    assert.deepEqual(decodeBase32('mzxw6ytboi======'), ascii('foobar'))
    assert.throws(() => decodeBase32('MZ1'), TypeError)
  })

  it('buildOtpauthUri() names issuer and account and carries every parameter', () => {
    const uri = new URL(
      buildOtpauthUri({ secret: ascii('12345678901234567890'), issuer: 'Acme Games', accountName: 'alice' }),
    )
    assert.equal(uri.protocol, 'otpauth:')
    assert.equal(uri.host, 'totp')
    assert.equal(decodeURIComponent(uri.pathname), '/Acme Games:alice')
    assert.equal(uri.searchParams.get('secret'), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')
    assert.equal(uri.searchParams.get('issuer'), 'Acme Games')
    assert.equal(uri.searchParams.get('algorithm'), 'SHA1')
    assert.equal(uri.searchParams.get('digits'), '6')
    assert.equal(uri.searchParams.get('period'), '30')
  })
})

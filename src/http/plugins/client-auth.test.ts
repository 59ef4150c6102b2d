import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readBasicCredentials } from './client-auth.ts'

const basic = (bytes: Buffer | string) => `Basic ${Buffer.from(bytes).toString('base64')}`

describe('readBasicCredentials()', () => {
  it('reads the id and the secret, form-decoding each only where it is encoded', () => {
    assert.deepEqual(readBasicCredentials(basic('Zm9v-bar_1:c2Vj-cmV0_2')), {
      clientId: 'Zm9v-bar_1',
      clientSecret: 'c2Vj-cmV0_2',
    })
    assert.deepEqual(readBasicCredentials(basic('%41b+c:s%3Ac%2Bt+x')), { clientId: 'Ab c', clientSecret: 's:c+t x' })
    assert.deepEqual(readBasicCredentials(basic('ünï:sécret')), { clientId: 'ünï', clientSecret: 'sécret' })
    assert.deepEqual(readBasicCredentials(`basic ${Buffer.from('a:b').toString('base64')}`), {
      clientId: 'a',
      clientSecret: 'b',
    })
  })

  it('refuses what is not a well-formed Basic header of UTF-8 text', () => {
    for (const [name, header] of [
      ['another scheme', `Bearer ${Buffer.from('a:b').toString('base64')}`],
      ['not base64', 'Basic !!!'],
      ['no colon', basic('id-only')],
      ['an empty id', basic(':secret')],
      ['an empty secret', basic('id:')],
      ['invalid UTF-8', basic(Buffer.from([0x69, 0x64, 0x3a, 0xff, 0xfe]))],
      ['an overlong encoding', basic(Buffer.from([0x69, 0x64, 0x3a, 0xc0, 0x80]))],
      ['a lone surrogate in UTF-8', basic(Buffer.from([0x69, 0x64, 0x3a, 0xed, 0xa0, 0x80]))],
      ['a broken percent escape', basic('id:%zz')],
      ['a percent escape of invalid UTF-8', basic('id:%ff')],
    ]) {
      assert.equal(readBasicCredentials(header as string), null, name)
    }
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeReturnTo, parseReturnTo } from './return-to.ts'

const publicOrigin = 'https://auth.example'
const allowed = [publicOrigin, 'https://app.example', 'http://127.0.0.1:5173']

function destination(value: string): string | null {
  const parsed = parseReturnTo(value, publicOrigin, allowed)
  return parsed === null ? null : describeReturnTo(parsed)
}

describe('parseReturnTo()', () => {
  it('accepts paths of this server and URLs on the allowed origins, re-serialised', () => {
    assert.equal(destination('/account'), '/account')
    assert.equal(destination('/account/sessions?x=1#top'), '/account/sessions?x=1#top')
    assert.equal(destination('/a/../account'), '/account')
    assert.equal(destination('https://app.example/play?level=2'), 'https://app.example/play?level=2')
    assert.equal(destination('https://APP.example:443/'), 'https://app.example/')
    assert.equal(destination('http://127.0.0.1:5173/callback'), 'http://127.0.0.1:5173/callback')
    assert.equal(destination('https://auth.example/account'), '/account')
    // Encoded slashes stay encoded: a path of this server, never a host.
    assert.equal(destination('/%2F%2Fevil.example'), '/%2F%2Fevil.example')
    assert.equal(destination('/%5Cevil.example'), '/%5Cevil.example')
  })

  it('refuses every way of naming another host', () => {
    const refused = [
      '//evil.example',
      '//evil.example/account',
      '///evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      '\\/evil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      ' /account',
      '/.//evil.example',
      '/..//evil.example',
      '/a/..//evil.example',
      'https:evil.example',
      'https:/evil.example',
      'http:evil.example',
      'https://evil.example',
      'https://evil.example/https://app.example',
      'https://app.example@evil.example',
      'https://app.example:443@evil.example/',
      'https://user:pass@app.example/',
      'https://app.example.evil.example/',
      'https://evil.example#@app.example',
      'https://evil.example?@app.example',
      'https://evil.example\\@app.example',
      'https:\\\\evil.example',
      'https://auth.example//evil.example',
      'http://app.example/',
      'https%3A%2F%2Fevil.example',
      '%2F%2Fevil.example',
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'ftp://app.example/',
      'evil.example',
      '',
      `/${'a'.repeat(3000)}`,
      '/account\u0000',
      '/ａccount',
    ]
    for (const value of refused) assert.equal(destination(value), null, JSON.stringify(value))
  })
})

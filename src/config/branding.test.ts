import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { computeContrastRatio, detectLogoType, normalizeHexColor } from './branding.ts'
import { ConfigError, loadConfig } from './load.ts'
import { renderBrandStylesheet } from '../web/brand.ts'

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ TESSERA_PORT: '0', ...env })
    return []
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
}

describe('page branding settings', () => {
  it('take colours as hex literals only, so nothing else can reach the stylesheet', () => {
    assert.equal(normalizeHexColor('#ABC'), '#aabbcc')
    assert.equal(normalizeHexColor('#12a4Ef'), '#12a4ef')
    for (const hostile of [
      'red',
      'rgb(0,0,0)',
      '#12345',
      '#1234567',
      '#abc;}body{display:none',
      '#abc\n',
      'url(x)',
      'var(--x)',
      '#gggggg',
      '',
    ]) {
      assert.equal(normalizeHexColor(hostile), null, hostile)
    }
    const problems = problemsOf({ TESSERA_PAGES_ACCENT_COLOR: '#000;} * { background: url(https://evil.example/x) }' })
    assert.deepEqual(problems, ['TESSERA_PAGES_ACCENT_COLOR: expected a colour as #rgb or #rrggbb'])
    assert.throws(
      () => renderBrandStylesheet({ accent: 'red;}', accentText: '#ffffff', background: '#ffffff', text: '#000000' }),
      TypeError,
    )
  })

  it('refuse colours that do not contrast 4.5:1 where text meets them', () => {
    assert.equal(computeContrastRatio('#000000', '#ffffff').toFixed(1), '21.0')
    assert.equal(computeContrastRatio('#ffffff', '#ffffff'), 1)
    const problems = problemsOf({ TESSERA_PAGES_ACCENT_COLOR: '#ffee00' })
    assert.equal(problems.length, 2)
    assert.match(
      problems[0] ?? '',
      /^TESSERA_PAGES_ACCENT_COLOR: contrasts 1\.\d\d:1 with TESSERA_PAGES_BACKGROUND_COLOR/,
    )
    assert.match(problems[1] ?? '', /^TESSERA_PAGES_ACCENT_TEXT_COLOR: contrasts/)
    assert.deepEqual(problemsOf({ TESSERA_PAGES_ACCENT_COLOR: '#0b6e4f', TESSERA_PAGES_PRODUCT_NAME: 'Acme Play' }), [])
  })

  it('check the product name and the logo file at start', () => {
    assert.deepEqual(problemsOf({ TESSERA_PAGES_PRODUCT_NAME: 'Acme\u202eyalP' }), [
      'TESSERA_PAGES_PRODUCT_NAME: expected 1 to 64 visible characters',
    ])
    const dir = mkdtempSync(join(tmpdir(), 'tessera-logo-'))
    const notImage = join(dir, 'logo.png')
    writeFileSync(notImage, '<html><script>alert(1)</script></html>')
    assert.deepEqual(problemsOf({ TESSERA_PAGES_LOGO_FILE: notImage }), [
      `TESSERA_PAGES_LOGO_FILE: ${notImage} is not a PNG, JPEG, WebP or SVG image`,
    ])
    assert.match(
      problemsOf({ TESSERA_PAGES_LOGO_FILE: join(dir, 'missing.svg') })[0] ?? '',
      /cannot read .*missing\.svg \(ENOENT\)/,
    )
    const svg = join(dir, 'logo.svg')
    writeFileSync(svg, '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"></svg>')
    assert.equal(loadConfig({ TESSERA_PORT: '0', TESSERA_PAGES_LOGO_FILE: svg }).pages.logo?.kind, 'file')
    assert.deepEqual(
      problemsOf({ TESSERA_PAGES_LOGO_FILE: svg, TESSERA_PAGES_LOGO_URL: 'https://cdn.example/logo.png' }),
      ['TESSERA_PAGES_LOGO_URL: set either it or TESSERA_PAGES_LOGO_FILE, not both'],
    )
    assert.equal(detectLogoType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])), 'image/png')
    assert.equal(detectLogoType(new TextEncoder().encode('GIF89a')), null)
  })
})

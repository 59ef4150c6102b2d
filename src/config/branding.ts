/**
 * The pages' branding settings, checked once at start: colours are hex literals only (nothing
 * else can reach the generated stylesheet, so no setting can inject CSS), pairs that carry text
 * must contrast 4.5:1 (WCAG 2.2 AA), and a logo file must be an image of a known type.
 */
import { readFileSync } from 'node:fs'
import type { ReadSetting } from './schema.ts'

export interface BrandColors {
  accent: string
  accentText: string
  background: string
  text: string
}

export type LogoSource = { kind: 'url'; url: string } | { kind: 'file'; path: string } | null

export interface PageSettings {
  isEnabled: boolean
  productName: string
  logo: LogoSource
  colors: BrandColors
}

export type LogoType = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/svg+xml'

export const maxLogoBytes = 256 * 1024
const hexColorPattern = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i
const minimumContrast = 4.5

/** `#abc` → `#aabbcc`, lower case; null for anything that is not a hex colour literal. */
export function normalizeHexColor(text: string): string | null {
  if (!hexColorPattern.test(text)) return null
  const digits = text.slice(1).toLowerCase()
  return `#${digits.length === 3 ? [...digits].map((digit) => digit + digit).join('') : digits}`
}

function relativeLuminance(hex: string): number {
  const channel = (offset: number) => {
    const value = Number.parseInt(hex.slice(offset, offset + 2), 16) / 255
    return value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/** The WCAG contrast ratio of two normalised hex colours (1 to 21). */
export function computeContrastRatio(first: string, second: string): number {
  const [light, dark] = [relativeLuminance(first), relativeLuminance(second)].sort((a, b) => b - a) as [number, number]
  return (light + 0.05) / (dark + 0.05)
}

/** The image type of a logo file by its first bytes (never by its name), or null. */
export function detectLogoType(bytes: Uint8Array): LogoType | null {
  const startsWith = (...prefix: number[]) => prefix.every((byte, index) => bytes[index] === byte)
  if (startsWith(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png'
  if (startsWith(0xff, 0xd8, 0xff)) return 'image/jpeg'
  if (startsWith(0x52, 0x49, 0x46, 0x46) && String.fromCharCode(...bytes.slice(8, 12)) === 'WEBP') return 'image/webp'
  const head = new TextDecoder()
    .decode(bytes.slice(0, 1024))
    .replace(/^\ufeff/, '')
    .trimStart()
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/i.test(head)) return 'image/svg+xml'
  return null
}

/** Reads and checks a logo file; a problem is pushed (and null returned) when it will not do. */
export function readLogoFile(path: string, problems: string[]): { bytes: Uint8Array; type: LogoType } | null {
  let bytes: Uint8Array
  try {
    bytes = readFileSync(path)
  } catch (error) {
    problems.push(
      `TESSERA_PAGES_LOGO_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    )
    return null
  }
  if (bytes.length > maxLogoBytes) {
    problems.push(`TESSERA_PAGES_LOGO_FILE: ${path} is larger than ${maxLogoBytes / 1024} KiB`)
    return null
  }
  const type = detectLogoType(bytes)
  if (type === null) {
    problems.push(`TESSERA_PAGES_LOGO_FILE: ${path} is not a PNG, JPEG, WebP or SVG image`)
    return null
  }
  return { bytes, type }
}

export function readPageSettings(value: ReadSetting, problems: string[]): PageSettings {
  const productName = value('TESSERA_PAGES_PRODUCT_NAME')
  if (!/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,64}$/u.test(productName) || productName.trim() === '') {
    problems.push('TESSERA_PAGES_PRODUCT_NAME: expected 1 to 64 visible characters')
  }
  const colorNames = {
    accent: 'TESSERA_PAGES_ACCENT_COLOR',
    accentText: 'TESSERA_PAGES_ACCENT_TEXT_COLOR',
    background: 'TESSERA_PAGES_BACKGROUND_COLOR',
    text: 'TESSERA_PAGES_TEXT_COLOR',
  } as const
  const colors = {} as BrandColors
  for (const [key, name] of Object.entries(colorNames) as Array<
    [keyof BrandColors, (typeof colorNames)[keyof BrandColors]]
  >) {
    const normalized = normalizeHexColor(value(name))
    if (normalized === null) problems.push(`${name}: expected a colour as #rgb or #rrggbb`)
    colors[key] = normalized ?? '#000000'
  }
  if (Object.values(colorNames).every((name) => !problems.some((problem) => problem.startsWith(name)))) {
    const pairs = [
      ['TESSERA_PAGES_TEXT_COLOR', colors.text, 'TESSERA_PAGES_BACKGROUND_COLOR', colors.background],
      ['TESSERA_PAGES_ACCENT_COLOR', colors.accent, 'TESSERA_PAGES_BACKGROUND_COLOR', colors.background],
      ['TESSERA_PAGES_ACCENT_TEXT_COLOR', colors.accentText, 'TESSERA_PAGES_ACCENT_COLOR', colors.accent],
    ] as const
    for (const [name, color, otherName, other] of pairs) {
      const ratio = computeContrastRatio(color, other)
      if (ratio < minimumContrast) {
        problems.push(
          `${name}: contrasts ${ratio.toFixed(2)}:1 with ${otherName}; at least ${minimumContrast}:1 is needed to be readable`,
        )
      }
    }
  }
  const logoUrl = value('TESSERA_PAGES_LOGO_URL')
  const logoFile = value('TESSERA_PAGES_LOGO_FILE')
  let logo: LogoSource = null
  if (logoUrl !== undefined && logoFile !== undefined) {
    problems.push('TESSERA_PAGES_LOGO_URL: set either it or TESSERA_PAGES_LOGO_FILE, not both')
  } else if (logoUrl !== undefined) {
    logo = { kind: 'url', url: logoUrl }
  } else if (logoFile !== undefined && readLogoFile(logoFile, problems) !== null) {
    logo = { kind: 'file', path: logoFile }
  }
  return { isEnabled: value('TESSERA_PAGES_ENABLED'), productName, logo, colors }
}

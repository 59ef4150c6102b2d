/** The stylesheet of the branding colours (validated hex literals only: config/branding.ts). */
import type { BrandColors } from '../config/branding.ts'

export function renderBrandStylesheet(colors: BrandColors): string {
  for (const color of Object.values(colors)) {
    // Defence in depth: nothing but a checked literal is ever written into CSS.
    if (!/^#[0-9a-f]{6}$/.test(color)) throw new TypeError('brand colours must be normalised hex literals')
  }
  return `:root {\n  --accent: ${colors.accent};\n  --accent-text: ${colors.accentText};\n  --background: ${colors.background};\n  --text: ${colors.text};\n}\n`
}

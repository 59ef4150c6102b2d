/** The stylesheet of the branding colours (validated hex literals only: config/branding.ts). */
import type { BrandColors } from '../config/branding.ts'

export function renderBrandStylesheet(colors: BrandColors): string {
  for (const color of Object.values(colors)) {
    // Defence in depth: nothing but a checked literal is ever written into CSS.
    if (!/^#[0-9a-f]{6}$/.test(color)) throw new TypeError('brand colours must be normalised hex literals')
  }
  return `:root {\n  --accent: ${colors.accent};\n  --accent-text: ${colors.accentText};\n  --background: ${colors.background};\n  --text: ${colors.text};\n}\n`
}

/** The favicon: a tile in the accent colour (a browser asks for one on every first visit). */
export function renderBrandIcon(colors: BrandColors): string {
  if (!/^#[0-9a-f]{6}$/.test(colors.accent) || !/^#[0-9a-f]{6}$/.test(colors.accentText)) {
    throw new TypeError('brand colours must be normalised hex literals')
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${colors.accent}"/><path d="M9 9h14v4h-5v10h-4V13H9z" fill="${colors.accentText}"/></svg>\n`
}

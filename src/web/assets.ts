/**
 * The pages' static files: their stylesheet and scripts (src/web/assets), the client SDK they
 * import (src/client), the stylesheet of the branding colours and the logo file. Every URL holds
 * a hash of all of them, `/assets/<hash>/…`, so each can be cached for a year and a change of any
 * file (or setting) changes every URL; paths under the hash mirror `src/`, so the scripts'
 * relative imports (`../../client/index.ts`) resolve as they do in the repository.
 *
 * TypeScript is served as JavaScript, its types erased by Node (`module.stripTypeScriptTypes`)
 * on the first request for it, never at start; the files are read and hashed on the first page.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { stripTypeScriptTypes } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { detectLogoType, type LogoSource } from '../config/branding.ts'

export interface Asset {
  contentType: string
  body(): string | Uint8Array
}

export interface AssetTable {
  /** The URL of an asset by its path under `src/` (`web/assets/pages.css`) or a generated name. */
  urlOf(path: string): string
  /** The asset served at a URL path, or null. */
  find(urlPath: string): Asset | null
  /** Where the logo is, for `<img src>` and the CSP; null when no logo is configured. */
  logoUrl: string | null
}

const sourceRoot = fileURLToPath(new URL('..', import.meta.url))
const typeScriptType = 'text/javascript; charset=utf-8'
const stylesheetType = 'text/css; charset=utf-8'

function listServedSources(): string[] {
  const served: string[] = []
  for (const directory of ['client', 'web/assets']) {
    for (const name of readdirSync(join(sourceRoot, directory)).sort()) {
      if (name.endsWith('.test.ts') || !/\.(ts|css)$/.test(name)) continue
      served.push(`${directory}/${name}`)
    }
  }
  return served
}

/**
 * Browser libraries the pages' scripts import by their package name: served from the installed
 * package's ES module directory under `vendor/<name>/`, and the scripts' bare import rewritten to
 * that URL when they are served (the browser has no import map here: it would be an inline
 * script, which the policy forbids).
 */
const vendorModules = [{ specifier: '@simplewebauthn/browser', directory: 'vendor/simplewebauthn-browser' }] as const

function listVendorFiles(specifier: string): Array<{ path: string; file: string }> {
  // The `import` condition of the package: its ES modules, not its CommonJS build.
  const entry = fileURLToPath(import.meta.resolve(specifier))
  const root = dirname(entry)
  const files: Array<{ path: string; file: string }> = []
  const walk = (directory: string) => {
    for (const entryName of readdirSync(directory, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = join(directory, entryName.name)
      if (entryName.isDirectory()) walk(full)
      else if (entryName.name.endsWith('.js')) files.push({ path: relative(root, full), file: full })
    }
  }
  walk(root)
  return files
}

function rewriteVendorImports(code: string, prefix: string): string {
  let rewritten = code
  for (const { specifier, directory } of vendorModules) {
    rewritten = rewritten.replaceAll(`from '${specifier}'`, `from '${prefix}${directory}/index.js'`)
  }
  return rewritten
}

function lazily<T>(compute: () => T): () => T {
  let value: { computed: T } | null = null
  return () => {
    value ??= { computed: compute() }
    return value.computed
  }
}

interface AssetOptions {
  brandStylesheet: string
  brandIcon: string
  logo: LogoSource
}

/**
 * The table, made on its first use (the first page or asset asked for): reading and hashing every
 * served file is no work for the start, which most requests never need. The logo file is read at
 * once, so a logo that went missing fails the start, as the check of the setting does.
 */
export function createAssetTable(options: AssetOptions): AssetTable {
  const logoBytes = options.logo?.kind === 'file' ? readLogo(options.logo.path) : null
  const table = lazily(() => buildAssetTable(options, logoBytes))
  return {
    urlOf: (path) => table().urlOf(path),
    find: (urlPath) => table().find(urlPath),
    get logoUrl() {
      return table().logoUrl
    },
  }
}

function readLogo(path: string): { bytes: Uint8Array; type: string } {
  // Checked at start (config/branding.ts); read once more here, so what is served is what was hashed.
  const bytes = new Uint8Array(readFileSync(path))
  const type = detectLogoType(bytes)
  if (type === null) throw new TypeError('the logo file is no longer an image')
  return { bytes, type }
}

function buildAssetTable(options: AssetOptions, logo: { bytes: Uint8Array; type: string } | null): AssetTable {
  const sources = new Map<string, Asset>()
  const hash = createHash('sha256')
  // Known once every file is hashed; bodies are made on first request, after that.
  let prefix = ''
  for (const path of listServedSources()) {
    const text = readFileSync(join(sourceRoot, path), 'utf8')
    hash.update(`${path}\n${text}\n`)
    const isTypeScript = path.endsWith('.ts')
    sources.set(path, {
      contentType: isTypeScript ? typeScriptType : stylesheetType,
      body: isTypeScript ? lazily(() => rewriteVendorImports(stripTypeScriptTypes(text), prefix)) : () => text,
    })
  }
  for (const { specifier, directory } of vendorModules) {
    for (const { path, file } of listVendorFiles(specifier)) {
      const text = readFileSync(file, 'utf8')
      hash.update(`${directory}/${path}\n${text}\n`)
      sources.set(`${directory}/${path}`, { contentType: typeScriptType, body: () => text })
    }
  }
  sources.set('brand.css', { contentType: stylesheetType, body: () => options.brandStylesheet })
  hash.update(`brand.css\n${options.brandStylesheet}\n`)
  sources.set('icon.svg', { contentType: 'image/svg+xml', body: () => options.brandIcon })
  hash.update(`icon.svg\n${options.brandIcon}\n`)
  let logoPath: string | null = null
  if (logo !== null) {
    logoPath = 'logo'
    sources.set(logoPath, { contentType: logo.type, body: () => logo.bytes })
    hash.update(logo.bytes)
  }
  prefix = `/assets/${hash.digest('base64url').slice(0, 16)}/`
  const urlOf = (path: string) => {
    if (!sources.has(path)) throw new TypeError(`no asset ${path}`)
    return `${prefix}${path}`
  }
  return {
    urlOf,
    find: (urlPath) => (urlPath.startsWith(prefix) ? (sources.get(urlPath.slice(prefix.length)) ?? null) : null),
    logoUrl: logoPath !== null ? urlOf(logoPath) : options.logo?.kind === 'url' ? options.logo.url : null,
  }
}

/**
 * The repository checks itself: the domain core stays pure (no web framework, no database driver,
 * no HTTP server, no environment), HTTP routes and CLI commands reach the core only through its
 * application operations, and every public error code is documented.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { errorCodes } from '../src/core/errors.ts'

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const sourceDir = join(repositoryRoot, 'src')
const coreDir = join(sourceDir, 'core')
const errorsDoc = join(repositoryRoot, 'docs', 'errors.md')

const forbiddenModules = [
  /^fastify$/,
  /^fastify-/,
  /^@fastify\//,
  /^(node:)?sqlite$/,
  /^(node:)?https?$/,
  /^(node:)?http2$/,
  /^pg(-.*)?$/,
  /^postgres$/,
  /^redis$/,
  /^ioredis$/,
  /^@redis\//,
]

const specifierPatterns = [
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
]

function listSourceFiles(dir: string): string[] {
  return (
    readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      // Tests next to core modules may use a real store; the rule is about what the core ships.
      .filter((entry) => !entry.name.endsWith('.test.ts'))
      .map((entry) => join(entry.parentPath, entry.name))
  )
}

function readImportSpecifiers(source: string): string[] {
  return specifierPatterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] ?? ''))
}

/** The reasons a core source file breaks the import rules; empty when it keeps them. */
function findCoreViolations(source: string, filePath: string): string[] {
  const violations: string[] = []
  for (const specifier of readImportSpecifiers(source)) {
    if (forbiddenModules.some((pattern) => pattern.test(specifier))) {
      violations.push(`imports ${specifier}`)
    } else if (specifier.startsWith('.')) {
      const target = resolve(dirname(filePath), specifier)
      if (relative(coreDir, target).startsWith('..')) violations.push(`imports ${specifier} from outside src/core`)
    }
  }
  if (/\bprocess\s*(?:\.\s*env\b|\[\s*['"]env['"]\s*\])/.test(source)) violations.push('reads process.env')
  return violations
}

/**
 * What HTTP and the CLI may import from the rest of `src`: the application operations and their
 * vocabulary, errors and secret comparison, the configuration, the composition (runtime.ts,
 * main.ts) and the operator's whole-database tasks. Stores, caches and the low-level services
 * below the operations stay out of reach, since calling them would skip the audit trail and the
 * invalidation every operation does.
 */
const edgeMayImport = [
  'core/application/',
  'core/errors.ts',
  'core/secrets.ts',
  'config/',
  'runtime.ts',
  'main.ts',
  'metrics/',
  'storage/admin/',
  // The one line of app.ts that registers the pages.
  'web/pages-plugin.ts',
]

/** The pages are part of the HTTP edge: they may also use its helpers (cookies, origin checks, problems). */
const webMayImport = [...edgeMayImport, 'http/']

/** The reasons an HTTP, CLI or page source file reaches below the application; empty when it does not. */
function findEdgeViolations(source: string, filePath: string): string[] {
  const violations: string[] = []
  const ownLayer = relative(sourceDir, filePath).split('/')[0]
  const mayImport = ownLayer === 'web' ? webMayImport : edgeMayImport
  for (const specifier of readImportSpecifiers(source)) {
    if (!specifier.startsWith('.')) continue
    const target = relative(sourceDir, resolve(dirname(filePath), specifier))
    if (target.startsWith('..') || target.split('/')[0] === ownLayer) continue
    if (!mayImport.some((allowed) => target === allowed || target.startsWith(allowed))) {
      violations.push(`imports ${specifier} (below the application operations)`)
    }
  }
  return violations
}

describe('architecture', () => {
  it('src/http, src/cli and src/web reach the core only through its application operations', () => {
    const files = [
      ...listSourceFiles(join(sourceDir, 'http')),
      ...listSourceFiles(join(sourceDir, 'cli')),
      ...listSourceFiles(join(sourceDir, 'web')).filter((file) => !file.includes('/web/assets/')),
    ]
    assert.ok(files.length > 20, 'expected to find the HTTP and CLI sources')
    const violations = files.flatMap((file) =>
      findEdgeViolations(readFileSync(file, 'utf8'), file).map((why) => `${relative(repositoryRoot, file)}: ${why}`),
    )
    assert.deepEqual(violations, [])
  })

  it('the edge import check catches a store, a service and a storage adapter, and accepts the operations', () => {
    const route = join(sourceDir, 'http', 'routes', 'example.ts')
    const command = join(sourceDir, 'cli', 'commands', 'example.ts')
    const refused: Array<[string, string, string]> = [
      [
        route,
        "import type { SessionStore } from '../../core/sessions/store.ts'",
        'imports ../../core/sessions/store.ts (below the application operations)',
      ],
      [
        route,
        "import { createSessions } from '../../core/sessions/sessions.ts'",
        'imports ../../core/sessions/sessions.ts (below the application operations)',
      ],
      [
        command,
        "const { openSqliteStores } = await import('../../storage/sqlite/open.ts')",
        'imports ../../storage/sqlite/open.ts (below the application operations)',
      ],
      [
        command,
        "import type { Audit } from '../../core/audit/audit.ts'",
        'imports ../../core/audit/audit.ts (below the application operations)',
      ],
    ]
    const page = join(sourceDir, 'web', 'routes', 'example.ts')
    refused.push([
      page,
      "import type { Sessions } from '../../core/sessions/sessions.ts'",
      'imports ../../core/sessions/sessions.ts (below the application operations)',
    ])
    for (const [file, source, expected] of refused)
      assert.deepEqual(findEdgeViolations(source, file), [expected], source)
    const accepted: Array<[string, string]> = [
      [route, "import type { SignInOperations } from '../../core/application/sign-in.ts'"],
      [route, "import { TesseraError } from '../../core/errors.ts'"],
      [route, "import { requireAuth } from '../plugins/authenticate.ts'"],
      [command, "import { loadConfig } from '../../config/load.ts'"],
      [command, "import { migrateConfiguredSchema } from '../../storage/admin/schema-migration.ts'"],
      [command, "import Fastify from 'fastify'"],
      [
        join(sourceDir, 'web', 'routes', 'example.ts'),
        "import { readClientContext } from '../../http/request-context.ts'",
      ],
    ]
    for (const [file, source] of accepted) assert.deepEqual(findEdgeViolations(source, file), [], source)
  })

  it("the pages' browser scripts import nothing but each other, the client SDK and the served browser libraries", () => {
    const assetsDir = join(sourceDir, 'web', 'assets')
    // Served from node_modules by web/assets.ts, which rewrites these imports to their URL.
    const servedLibraries = ['@simplewebauthn/browser']
    const violations = listSourceFiles(assetsDir).flatMap((file) =>
      readImportSpecifiers(readFileSync(file, 'utf8'))
        .filter((specifier) => {
          if (servedLibraries.includes(specifier)) return false
          const target = relative(sourceDir, resolve(dirname(file), specifier))
          return !specifier.startsWith('.') || !(target.startsWith('client/') || target.startsWith('web/assets/'))
        })
        .map((specifier) => `${relative(repositoryRoot, file)}: imports ${specifier}`),
    )
    assert.deepEqual(violations, [])
  })

  it('src/core imports no framework, driver or HTTP module and never reads process.env', () => {
    const files = listSourceFiles(coreDir)
    assert.ok(files.length > 10, 'expected to find the core sources')
    const violations = files.flatMap((file) =>
      findCoreViolations(readFileSync(file, 'utf8'), file).map((why) => `${relative(repositoryRoot, file)}: ${why}`),
    )
    assert.deepEqual(violations, [])
  })

  it('the core import check catches each kind of violation', () => {
    const file = join(coreDir, 'sessions', 'example.ts')
    const cases: Array<[string, string]> = [
      ["import Fastify from 'fastify'", 'imports fastify'],
      ["import type { FastifyInstance } from 'fastify'", 'imports fastify'],
      ["import cookie from '@fastify/cookie'", 'imports @fastify/cookie'],
      ["import { DatabaseSync } from 'node:sqlite'", 'imports node:sqlite'],
      ["import pg from 'pg'", 'imports pg'],
      ["import { Redis } from 'ioredis'", 'imports ioredis'],
      ["import { createClient } from 'redis'", 'imports redis'],
      ["import { createServer } from 'node:http'", 'imports node:http'],
      ["import http from 'http'", 'imports http'],
      ["export { x } from 'node:https'", 'imports node:https'],
      ["const pg = await import('pg')", 'imports pg'],
      ["import 'node:sqlite'", 'imports node:sqlite'],
      [
        "import {\n  openSqliteStores,\n} from '../../storage/sqlite/open.ts'",
        'imports ../../storage/sqlite/open.ts from outside src/core',
      ],
      ['const port = process.env.PORT', 'reads process.env'],
      ["const port = process['env']", 'reads process.env'],
    ]
    for (const [source, expected] of cases) {
      assert.deepEqual(findCoreViolations(source, file), [expected], source)
    }
  })

  it('the core import check accepts what the core may use', () => {
    const file = join(coreDir, 'sessions', 'example.ts')
    const allowed = [
      "import { jwtVerify } from 'jose'",
      "import { randomBytes } from 'node:crypto'",
      "import type { Clock } from '../clock.ts'",
      "import { TesseraError } from '../errors.ts'",
      "import type { SessionStore } from './store.ts'",
      '// the HTTP layer maps this code; the session id is never a process-wide value',
    ]
    for (const source of allowed) assert.deepEqual(findCoreViolations(source, file), [], source)
  })

  it('docs/errors.md documents every error code', () => {
    assert.ok(existsSync(errorsDoc), 'docs/errors.md is missing')
    const doc = readFileSync(errorsDoc, 'utf8')
    const undocumented = errorCodes.filter((code) => !doc.includes(`\`${code}\``))
    assert.deepEqual(undocumented, [])
  })

  it('docs/errors.md lists no code that the core does not have', () => {
    assert.ok(existsSync(errorsDoc), 'docs/errors.md is missing')
    const known = new Set<string>(errorCodes)
    const listed = [...readFileSync(errorsDoc, 'utf8').matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*\d{3}\s*\|/gm)].map(
      (match) => match[1] ?? '',
    )
    assert.ok(listed.length > 0, 'expected a table of codes and statuses in docs/errors.md')
    assert.deepEqual(
      listed.filter((code) => !known.has(code)),
      [],
    )
  })
})

/** Packages the default start (SQLite, no passkey ceremony, no TOTP enrolment) must not load. */
const loadedOnlyWhenUsed = ['pg', '@redis/client', '@simplewebauthn/server', 'qrcode']

/** Bare specifiers a module and the modules it imports for their values (not `import type`) load at once. */
function findEagerPackages(entry: string): Map<string, string> {
  const eagerImport =
    /^\s*(?:import|export)\s+(?!type\b)[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm
  const packages = new Map<string, string>()
  const seen = new Set<string>()
  const pending = [entry]
  while (pending.length > 0) {
    const file = pending.pop() ?? ''
    if (seen.has(file)) continue
    seen.add(file)
    for (const match of readFileSync(file, 'utf8').matchAll(eagerImport)) {
      const specifier = match[1] ?? match[2] ?? ''
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier))
      else if (!packages.has(specifier)) packages.set(specifier, relative(repositoryRoot, file))
    }
  }
  return packages
}

describe('start-up cost', () => {
  it('the server loads the PostgreSQL and Redis clients, WebAuthn and the QR code library only when it uses them', () => {
    const eager = findEagerPackages(join(sourceDir, 'main.ts'))
    assert.ok(eager.has('fastify'), 'the import walk reaches the HTTP layer')
    const loaded = loadedOnlyWhenUsed
      .filter((name) => eager.has(name))
      .map((name) => `${name} (from ${eager.get(name)})`)
    assert.deepEqual(loaded, [])
  })
})

/**
 * The verifier ships to resource servers of any kind: it imports jose and its own files only
 * (no `node:` module, no Fastify, nothing else of Tessera). tsconfig.browser.json checks the
 * same from the type side.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const verifierDir = fileURLToPath(new URL('../../src/verifier/', import.meta.url))

function readSpecifiers(source: string): string[] {
  // TSDoc examples import `tessera-verifier`, as users do; only code counts.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '')
  return [...code.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((match) => match[1] ?? '')
}

function findViolations(source: string): string[] {
  return readSpecifiers(source).filter((specifier) => specifier !== 'jose' && !/^\.\/[a-z-]+\.ts$/.test(specifier))
}

describe('verifier imports', () => {
  it('src/verifier imports only jose and its own files', () => {
    const files = readdirSync(verifierDir).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    assert.ok(files.length >= 5)
    const violations = files.flatMap((file) =>
      findViolations(readFileSync(join(verifierDir, file), 'utf8')).map((specifier) => `${file}: ${specifier}`),
    )
    assert.deepEqual(violations, [])
  })

  it('the check catches node:, Fastify and imports from the rest of Tessera', () => {
    assert.deepEqual(findViolations("import { createHash } from 'node:crypto'"), ['node:crypto'])
    assert.deepEqual(findViolations("import type { FastifyInstance } from 'fastify'"), ['fastify'])
    assert.deepEqual(findViolations("import { TesseraError } from '../core/errors.ts'"), ['../core/errors.ts'])
    assert.deepEqual(findViolations("const x = await import('node:fs')"), ['node:fs'])
    assert.deepEqual(
      findViolations("import { jwtVerify } from 'jose'\nimport { VerifierError } from './verifier-error.ts'"),
      [],
    )
    assert.deepEqual(findViolations("/**\n * import { createVerifier } from 'tessera-verifier'\n */"), [])
  })
})
